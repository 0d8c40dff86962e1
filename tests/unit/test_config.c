/* cmd/config.c: the configuration file, its permissions, the *_file
 * secrets, precedence flag > environment > file > default, the sources
 * config check prints, masking; and pf_log's two formats. No services. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd/cli.h"
#include "common/pf_log.h"

extern char **environ;

static char dir[64];

static int setup(void **state)
{
    (void)state;
    /* none of the caller's PEERFLOW_* may leak into a case */
    for (int again = 1; again;) {
        again = 0;
        for (char **e = environ; *e; e++) {
            if (strncmp(*e, "PEERFLOW_", 9) == 0) {
                char name[128];
                snprintf(name, sizeof name, "%.*s", (int)strcspn(*e, "="), *e);
                unsetenv(name);
                again = 1;
                break;
            }
        }
    }
    snprintf(dir, sizeof dir, "/tmp/pf-test-config.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* Writes dir/name with mode; returns its path (static buffer per call site). */
static const char *put(const char *name, mode_t mode, const char *text)
{
    static char paths[8][128];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 128, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(p, mode), 0);
    return p;
}

static int key_index(const char *name)
{
    for (int i = 0; cli_config_key(i); i++)
        if (strcmp(cli_config_key(i), name) == 0)
            return i;
    fail_msg("no key %s", name);
    return -1;
}

static void load_ok(cli_config *cfg, const char *file, const char *flag_url)
{
    cli_flags fl = {.config = file, .database_url = flag_url};
    pf_err err = {0};
    if (cli_config_init(cfg, &fl, &err) != PF_OK)
        fail_msg("refused: %s", err.message);
}

static void load_bad(const char *file, const char *code, const char *needle)
{
    cli_config cfg;
    cli_flags fl = {.config = file};
    pf_err err = {0};
    pf_kind k = cli_config_init(&cfg, &fl, &err);
    cli_config_free(&cfg);
    if (k != PF_EINVALID)
        fail_msg("accepted (wanted %s)", code);
    assert_string_equal(err.code, code);
    if (strstr(err.message, needle) == NULL)
        fail_msg("message '%s' lacks '%s'", err.message, needle);
}

static void precedence(void **state)
{
    (void)state;
    const char *f = put("a.conf", 0600,
                        "# a comment\n"
                        "\n"
                        "  listen = 127.0.0.1:9000  \n"
                        "mail_from = ops@ix.example\n"
                        "database_url = host=/run/pg dbname=pf user=peerflow_app\n"
                        "base_url =\n");
    setenv("PEERFLOW_LISTEN", "0.0.0.0:9100", 1);
    cli_config cfg;
    load_ok(&cfg, f, NULL);
    /* environment over file */
    assert_string_equal(cfg.listen, "0.0.0.0:9100");
    assert_int_equal(cfg.source[key_index("listen")], CLI_SRC_ENV);
    assert_string_equal(cfg.origin[key_index("listen")], "environment PEERFLOW_LISTEN");
    /* file over default */
    assert_string_equal(cfg.mail_from, "ops@ix.example");
    assert_int_equal(cfg.source[key_index("mail_from")], CLI_SRC_FILE);
    char want[200];
    snprintf(want, sizeof want, "file %s:4", f);
    assert_string_equal(cfg.origin[key_index("mail_from")], want);
    /* an empty value is as if not given */
    assert_null(cfg.base_url);
    /* default */
    assert_string_equal(cfg.log_format, "text");
    assert_int_equal(cfg.source[key_index("log_format")], CLI_SRC_DEFAULT);
    /* the worker and migrate URLs follow database_url when unset */
    assert_string_equal(cfg.worker_database_url, "host=/run/pg dbname=pf user=peerflow_app");
    assert_int_equal(cfg.source[key_index("worker_database_url")], CLI_SRC_FILE);
    assert_non_null(strstr(cfg.origin[key_index("migrate_database_url")], "as database_url"));
    assert_string_equal(cfg.config_file, f);
    cli_config_free(&cfg);

    /* the flag over the environment, for all three URLs */
    setenv("PEERFLOW_WORKER_DATABASE_URL", "dbname=env", 1);
    load_ok(&cfg, f, "dbname=flag");
    assert_string_equal(cfg.database_url, "dbname=flag");
    assert_string_equal(cfg.worker_database_url, "dbname=flag");
    assert_int_equal(cfg.source[key_index("migrate_database_url")], CLI_SRC_FLAG);
    cli_config_free(&cfg);

    /* a worker URL given explicitly beats the one derived */
    load_ok(&cfg, f, NULL);
    assert_string_equal(cfg.worker_database_url, "dbname=env");
    assert_string_equal(cfg.migrate_database_url, "host=/run/pg dbname=pf user=peerflow_app");
    cli_config_free(&cfg);
}

static void choosing_the_file(void **state)
{
    (void)state;
    const char *f = put("b.conf", 0644, "listen = 127.0.0.1:7000\n");
    cli_config cfg;
    setenv("PEERFLOW_CONFIG", f, 1);
    load_ok(&cfg, NULL, NULL);
    assert_string_equal(cfg.listen, "127.0.0.1:7000");
    cli_config_free(&cfg);
    /* --config wins over PEERFLOW_CONFIG, and a named file must exist */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/nope.conf", dir);
    load_bad(missing, "config_unreadable", "nope.conf");
    unsetenv("PEERFLOW_CONFIG");
    /* no file at all: defaults (this binary runs from the tree, so the
     * system's file is not read, and the tree's directories are used) */
    load_ok(&cfg, NULL, NULL);
    assert_null(cfg.config_file);
    assert_string_equal(cfg.listen, "127.0.0.1:8080");
    assert_string_equal(cfg.migrations_dir, PF_MIGRATIONS_DIR);
    assert_string_equal(cfg.templates_dir, PF_WEB_DIR "/templates");
    cli_config_free(&cfg);
}

static void syntax_errors(void **state)
{
    (void)state;
    load_bad(put("c.conf", 0600, "listen = x\n\nlisen = 127.0.0.1:1\n"), "config_unknown_key",
             "c.conf:3: unknown key 'lisen'");
    load_bad(put("d.conf", 0600, "listen\n"), "config_syntax", "d.conf:1: expected 'key = value'");
    load_bad(put("e.conf", 0600, "listen = a\nlisten = b\n"), "config_repeated_key",
             "e.conf:2: listen is set twice");
    load_bad(put("f.conf", 0600, "log_format = xml\n"), "bad_log_format",
             "log_format must be text or json, not 'xml'");
    /* the environment's names are not the file's */
    load_bad(put("g.conf", 0600, "PEERFLOW_LISTEN = a\n"), "config_unknown_key",
             "unknown key 'PEERFLOW_LISTEN'");
}

static void permissions(void **state)
{
    (void)state;
    cli_config cfg;
    /* a password in a file others can read: refused, saying the chmod */
    const char *f = put("h.conf", 0644, "database_url = postgresql://app:pw@db/pf\n");
    load_bad(f, "config_unsafe_permissions", "chmod 600");
    load_bad(put("h2.conf", 0640, "smtp_url = smtps://mailer:pw@mx.example:465\n"),
             "config_unsafe_permissions", "holds a password (smtp_url)");
    load_bad(put("h3.conf", 0640, "database_url = host=db password='a b' user=x\n"),
             "config_unsafe_permissions", "readable by group or others");
    /* the same file private: fine */
    chmod(f, 0600);
    load_ok(&cfg, f, NULL);
    cli_config_free(&cfg);
    /* no secret: others may read it */
    load_ok(&cfg, put("i.conf", 0644, "database_url = host=/run/pg user=peerflow_app\n"), NULL);
    cli_config_free(&cfg);
    /* writable by anyone: refused, secret or not */
    load_bad(put("j.conf", 0666, "listen = 127.0.0.1:1\n"), "config_unsafe_permissions",
             "chmod o-w");
}

static void secret_files(void **state)
{
    (void)state;
    const char *secret = put("db.url", 0600, "postgresql://app:hunter2@db/pf\n");
    char text[256];
    snprintf(text, sizeof text, "database_url_file = %s\n", secret);
    const char *f = put("k.conf", 0644, text);
    cli_config cfg;
    load_ok(&cfg, f, NULL);
    assert_string_equal(cfg.database_url, "postgresql://app:hunter2@db/pf");
    char buf[200];
    cli_config_masked(&cfg, key_index("database_url"), buf, sizeof buf);
    assert_string_equal(buf, "*****");
    cli_config_masked(&cfg, key_index("worker_database_url"), buf, sizeof buf);
    assert_string_equal(buf, "*****");
    assert_non_null(strstr(cfg.origin[key_index("database_url")], "database_url_file"));
    cli_config_free(&cfg);
    /* the secret's file must be private */
    chmod(secret, 0640);
    load_bad(f, "config_unsafe_permissions", "chmod 600");
    chmod(secret, 0600);
    /* a value and its _file in one file */
    snprintf(text, sizeof text, "database_url = x\ndatabase_url_file = %s\n", secret);
    load_bad(put("l.conf", 0600, text), "config_repeated_key", "l.conf:2");
    /* from the environment too; the variable over the file */
    setenv("PEERFLOW_SMTP_URL_FILE", secret, 1);
    load_ok(&cfg, NULL, NULL);
    assert_string_equal(cfg.smtp_url, "postgresql://app:hunter2@db/pf");
    assert_true(cfg.hidden[key_index("smtp_url")]);
    cli_config_free(&cfg);
    setenv("PEERFLOW_SMTP_URL", "file:/tmp/x", 1);
    load_bad(NULL, "config_conflict", "PEERFLOW_SMTP_URL and PEERFLOW_SMTP_URL_FILE");
    unsetenv("PEERFLOW_SMTP_URL_FILE");
    unsetenv("PEERFLOW_SMTP_URL");
    load_bad(put("m.conf", 0600, "smtp_url_file = relative/path\n"), "config_syntax",
             "absolute path");
}

static void masking(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        bool secret;
    } cases[] = {
        {"postgresql://app:pw@db:5432/pf", "postgresql://app:*****@db:5432/pf", true},
        {"postgresql://app@db/pf", "postgresql://app@db/pf", false},
        {"smtps://u%40x:p@ss@mx.example:465", "smtps://u%40x:*****@mx.example:465", true},
        {"host=db password=pw user=app", "host=db password=***** user=app", true},
        {"host=db password = 'a \\' b' user=app", "host=db password = ***** user=app", true},
        {"postgresql://db/pf?user=app&password=pw&sslmode=require",
         "postgresql://db/pf?user=app&password=*****&sslmode=require", true},
        {"host=/run/pg dbname=pf user=peerflow_app", "host=/run/pg dbname=pf user=peerflow_app",
         false},
        {"file:/var/lib/peerflow/mail", "file:/var/lib/peerflow/mail", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[200];
        bool s = cli_mask_secret(cases[i].in, buf, sizeof buf);
        if (s != cases[i].secret || strcmp(buf, cases[i].out) != 0)
            fail_msg("'%s' -> '%s' (%d), want '%s' (%d)", cases[i].in, buf, s, cases[i].out,
                     cases[i].secret);
    }
}

static void log_lines(void **state)
{
    (void)state;
    char line[512];
    pf_log_format(line, sizeof line, false, "info", "web", "GET / 200");
    assert_string_equal(line, "web: GET / 200\n");
    pf_log_format(line, sizeof line, true, "error", "peerflow",
                  "mail: \"x\"\n\\ \x01\xc3\xa9 \xff\xc3(");
    assert_non_null(strstr(line, ",\"level\":\"error\",\"component\":\"peerflow\",\"msg\":"));
    assert_int_equal(strncmp(line, "{\"ts\":\"20", 9), 0);
    /* UTF-8 kept, a stray byte replaced */
    assert_non_null(strstr(
        line, "\"msg\":\"mail: \\\"x\\\"\\u000a\\\\ \\u0001\xc3\xa9 \\ufffd\\ufffd(\"}\n"));
    assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1); /* one line */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(choosing_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(syntax_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(secret_files, setup, teardown),
        cmocka_unit_test_setup_teardown(masking, setup, teardown),
        cmocka_unit_test_setup_teardown(log_lines, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
