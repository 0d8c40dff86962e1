/* peerflow report list | report NAME [--format table|csv|json] [--request ID]
 * peerflow audit verify */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "workflow/queries.h"
#include "workflow/validate.h"

int cmd_report(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"format", true, false}, {"request", true, false}, {NULL}};
    static const char *const fmts[] = {"table", "csv", "json", NULL};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    long long request_id = 0;
    if (cli_parse("report", argc, argv, opts, &a, &err))
        return cli_fail(&err);
    if (a.npos != 1) {
        pf_fail(&err, PF_EINVALID, "missing_name", "name",
                "usage: peerflow report list | peerflow report NAME [--format table|csv|json]");
        return cli_fail(&err);
    }
    const char *fmt = cli_get(&a, "format") ? cli_get(&a, "format") : "table";
    if (wf_check_choice(fmt, "format", fmts, &err) ||
        (cli_has(&a, "request") &&
         wf_parse_int(cli_get(&a, "request"), "request", 1, 9223372036854775807LL, &request_id,
                      &err)))
        return cli_fail(&err);
    db_conn *c = cli_connect(cfg, NULL, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    pf_table *t = NULL;
    pf_kind k = strcmp(a.pos[0], "list") == 0
                    ? wf_report_list(&env, &who, &t, &err)
                    : wf_report_run(&env, &who, a.pos[0], request_id, &t, &err);
    db_close(c);
    if (k)
        return cli_fail(&err);
    if (strcmp(fmt, "csv") == 0) {
        pf_table_write_csv(t, stdout);
    } else if (strcmp(fmt, "json") == 0) {
        char *s = pf_table_to_json(t);
        puts(s ? s : "null");
        free(s);
    } else {
        pf_table_write_text(t, stdout);
    }
    pf_table_free(t);
    return 0;
}

int cmd_audit(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    if (argc < 1 || strcmp(argv[0], "verify") != 0) {
        fprintf(stderr, "peerflow: usage: peerflow audit verify\n");
        return 2;
    }
    if (cli_parse("audit verify", argc - 1, argv + 1, opts, &a, &err))
        return cli_fail(&err);
    db_conn *c = cli_connect(cfg, NULL, &env, &err);
    if (c == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    db_audit_verdict v;
    pf_kind k = wf_audit_verify(&env, &who, &v, &err);
    db_close(c);
    if (k)
        return cli_fail(&err);
    if (v.ok) {
        printf("audit log OK: %lld rows, head %s\n", v.rows, v.head_hash);
        return 0;
    }
    printf("audit log TAMPERED at row %lld: %s\n", v.bad_seq, v.problem);
    return 6;
}
