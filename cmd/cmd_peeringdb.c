/* peerflow peeringdb import|sync|pin: networks' facts from PeeringDB
 * (docs/peeringdb.md). import reads files or URLs, sync asks the API
 * for what changed; both print a line per changed network and a
 * summary. They act as the operator at the shell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "workflow/peeringdb.h"
#include "workflow/validate.h"

pf_kind cli_peeringdb_interval(const cli_config *cfg, int *seconds, pf_err *err)
{
    *seconds = 0;
    const char *v = cfg->peeringdb_interval;
    if (v == NULL || v[0] == '\0') {
        /* a key says the exchange uses PeeringDB: sync hourly */
        if (cfg->peeringdb_api_key && cfg->peeringdb_api_key[0])
            *seconds = 3600;
        return PF_OK;
    }
    long long s;
    if (wf_parse_int(v, "peeringdb_interval", 0, 7 * 24 * 3600, &s, err))
        return pf_fail(err, PF_EINVALID, "bad_interval", "peeringdb_interval",
                       "peeringdb_interval is seconds 0..604800 (0 = no sync task), not '%.40s'",
                       v);
    *seconds = (int)s;
    return PF_OK;
}

static void print_summary(const char *what, const wf_pdb_summary *s)
{
    size_t i;
    json_t *l;
    json_array_foreach(s->lines, i, l)
        printf("%s\n", json_string_value(l));
    printf("%s: %d network%s here, %d changed (%d field%s), %d created, %d note%s\n", what,
           s->networks_seen, s->networks_seen == 1 ? "" : "s", s->networks_changed,
           s->fields_changed, s->fields_changed == 1 ? "" : "s", s->networks_created,
           s->skipped, s->skipped == 1 ? "" : "s");
}

static char *read_all(const char *path, size_t *len, pf_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        pf_fail(err, PF_EINVALID, "unreadable", "file", "cannot read %s", path);
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 131072;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + *len, 1, 65536, f);
        *len += n;
        if (n < 65536)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        pf_fail(err, PF_EINVALID, "unreadable", "file", "cannot read %s", path);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

static int cmd_import(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"create", false, false}, {NULL}};
    cli_args a;
    pf_err err = {0};
    if (cli_parse("peeringdb import", argc, argv, opts, &a, &err))
        return cli_fail(&err);
    if (a.npos == 0) {
        pf_fail(&err, PF_EINVALID, "missing", "file",
                "peeringdb import needs FILE or URL arguments (PeeringDB JSON)");
        return cli_fail(&err);
    }
    wf_pdb_set set;
    wf_pdb_set_init(&set);
    pf_kind k = PF_OK;
    for (int i = 0; i < a.npos && k == PF_OK; i++) {
        const char *src = a.pos[i];
        size_t len = 0;
        char *text = NULL;
        if (strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0)
            k = wf_pdb_fetch(src, cfg->peeringdb_api_key, 0, &text, &len, &err);
        else if ((text = read_all(src, &len, &err)) == NULL)
            k = err.kind;
        if (k == PF_OK)
            k = wf_pdb_parse_text(&set, text, len, src, wf_pdb_kind_of(src), &err);
        free(text);
    }
    if (k != PF_OK) {
        wf_pdb_set_free(&set);
        return cli_fail(&err);
    }
    wf_pdb_finish(&set);
    wf_env env;
    db_conn *c = cli_connect(cfg, NULL, &env, &err);
    if (c == NULL) {
        wf_pdb_set_free(&set);
        return cli_fail(&err);
    }
    wf_actor who = wf_actor_cli();
    wf_pdb_apply_opts o = {.create = cli_has(&a, "create"), .ix_id = cfg->peeringdb_ix_id};
    wf_pdb_summary sum;
    k = wf_pdb_apply(&env, &who, &set, &o, &sum, &err);
    wf_pdb_set_free(&set);
    db_close(c);
    if (k != PF_OK)
        return cli_fail(&err);
    print_summary("peeringdb import", &sum);
    json_decref(sum.lines);
    return 0;
}

static int cmd_sync(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    db_conn *c = NULL;
    if (cli_parse("peeringdb sync", argc, argv, opts, &a, &err) ||
        (c = cli_connect_for(cfg, "peeringdb sync", &a, &env, &err)) == NULL)
        return cli_fail(&err);
    wf_actor who = wf_actor_cli();
    wf_pdb_sync_opts o = {.url = cfg->peeringdb_url, .api_key = cfg->peeringdb_api_key};
    wf_pdb_summary sum;
    pf_kind k = wf_pdb_sync(&env, &who, &o, &sum, &err);
    db_close(c);
    if (k != PF_OK)
        return cli_fail(&err);
    print_summary("peeringdb sync", &sum);
    json_decref(sum.lines);
    return 0;
}

/* peeringdb pin --asn N --fields name,policy (none unpins all) */
static int cmd_pin(const cli_config *cfg, int argc, char **argv)
{
    static const cli_opt opts[] = {{"asn", true, false}, {"fields", true, false}, {NULL}};
    cli_args a;
    wf_env env;
    pf_err err = {0};
    db_conn *c = NULL;
    if (cli_parse("peeringdb pin", argc, argv, opts, &a, &err) || cli_require(&a, "asn", &err) ||
        cli_require(&a, "fields", &err) ||
        (c = cli_connect_for(cfg, "peeringdb pin", &a, &env, &err)) == NULL)
        return cli_fail(&err);
    /* "none" unpins every field */
    char *list = strdup(strcmp(cli_get(&a, "fields"), "none") == 0 ? "" : cli_get(&a, "fields"));
    const char *names[WF_PDB_NFIELDS * 2];
    size_t n = 0;
    pf_kind k = PF_OK;
    for (char *save = NULL, *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (n == sizeof names / sizeof names[0]) {
            k = pf_fail(&err, PF_EINVALID, "too_many_fields", "fields",
                        "--fields names at most the %d fields: " WF_PDB_FIELD_NAMES,
                        WF_PDB_NFIELDS);
            break;
        }
        names[n++] = t;
    }
    wf_actor who = wf_actor_cli();
    json_t *out = NULL;
    if (k == PF_OK)
        k = wf_peeringdb_pins_set(&env, &who, cli_get(&a, "asn"), names, n, &err);
    if (k == PF_OK)
        k = wf_peeringdb_pins_get(&env, &who, cli_get(&a, "asn"), &out, &err);
    free(list);
    db_close(c);
    if (k != PF_OK)
        return cli_fail(&err);
    char *s = json_dumps(json_object_get(out, "pinned"), JSON_COMPACT);
    printf("AS%s pinned: %s\n", cli_get(&a, "asn"), s ? s : "[]");
    free(s);
    json_decref(out);
    return 0;
}

int cmd_peeringdb(const cli_config *cfg, int argc, char **argv)
{
    static const char usage[] =
        "peeringdb import [--create] FILE-or-URL... | peeringdb sync | "
        "peeringdb pin --asn N --fields F,...|none";
    if (argc >= 1 && strcmp(argv[0], "import") == 0)
        return cmd_import(cfg, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "sync") == 0)
        return cmd_sync(cfg, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "pin") == 0)
        return cmd_pin(cfg, argc - 1, argv + 1);
    pf_err err = {0};
    pf_fail(&err, PF_EINVALID, "unknown_subcommand", NULL, "usage: %s (see: peerflow help)",
            usage);
    return cli_fail(&err);
}
