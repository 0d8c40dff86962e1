/* Integration tests of approval links and mail delivery against a real
 * PostgreSQL (tests/run.sh) and a real SMTP server: Debian's aiosmtpd,
 * started by this test on a free port and writing a Maildir
 * (/usr/bin/python3 -m aiosmtpd ... -c aiosmtpd.handlers.Mailbox DIR).
 * The server is stopped at the end of each test, at exit, and - through
 * PR_SET_PDEATHSIG - when this process dies for any reason.
 *
 *   link_flow            submit -> mail -> link -> view -> approve -> reuse refused;
 *                        edited link refused; cancelled request's link refused;
 *                        nothing usable stored; dot lines survive SMTP
 *   smtp_down_then_up    the message waits (attempts, last_error, report),
 *                        then arrives exactly once
 *   workers_share_queue  two mailers at once, each message exactly once
 *   auto_approve         the peer is told, gets no link
 *   expiry               expired requests are mailed, their links refused
 *   file_delivery        file:DIR .eml files parse (Python's email package
 *                        as an independent reader), encoded subject */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "tests/support/pgtest.h"
#include "workflow/admin.h"
#include "workflow/links.h"
#include "workflow/mailer.h"
#include "workflow/queries.h"
#include "workflow/requests.h"
#include "workflow/validate.h"
#include "web/metrics.h"

/* -------------------------------------------------------- SMTP server */

static pid_t smtp_pid;
static int smtp_port;
static char smtp_dir[256];

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static bool port_open(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

static void smtp_stop(void)
{
    if (smtp_pid > 0) {
        kill(smtp_pid, SIGTERM);
        int st;
        for (int i = 0; i < 50 && waitpid(smtp_pid, &st, WNOHANG) == 0; i++)
            usleep(100 * 1000);
        if (waitpid(smtp_pid, &st, WNOHANG) == 0) {
            kill(smtp_pid, SIGKILL);
            waitpid(smtp_pid, &st, 0);
        }
    }
    smtp_pid = 0;
}

/* A Maildir sink that answers RCPT TO refused* with 550 (permanent) and
 * busy* with 450 (temporary), for the dead-letter tests. */
static const char refusing_py[] =
    "from aiosmtpd.handlers import Mailbox\n"
    "class Refusing(Mailbox):\n"
    "    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):\n"
    "        if address.startswith('refused'):\n"
    "            return '550 5.1.1 no such mailbox here'\n"
    "        if address.startswith('busy'):\n"
    "            return '450 4.2.1 mailbox busy, try later'\n"
    "        envelope.rcpt_tos.append(address)\n"
    "        return '250 OK'\n";

static const char *smtp_handler = "aiosmtpd.handlers.Mailbox";

/* Starts aiosmtpd on smtp_port (chosen once per test) into smtp_dir,
 * with smtp_handler. */
static void smtp_start(void)
{
    if (smtp_port == 0)
        smtp_port = free_port();
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", smtp_port);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the test */
        if (getppid() != parent)
            _exit(1);
        freopen("/dev/null", "w", stdout);
        execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", listen, "-c",
              smtp_handler, smtp_dir, (char *)NULL);
        _exit(127);
    }
    smtp_pid = pid;
    for (int i = 0; i < 100; i++) {
        if (port_open(smtp_port))
            return;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            smtp_pid = 0;
            fail_msg("aiosmtpd exited at start (is python3-aiosmtpd installed?)");
        }
        usleep(50 * 1000);
    }
    smtp_stop();
    fail_msg("aiosmtpd did not listen on %s within 5 s", listen);
}

/* Every message file of the Maildir (new/ and cur/), malloc'd texts. */
static int maildir_read(const char *dir, char ***out)
{
    int n = 0, cap = 0;
    char **texts = NULL;
    const char *subs[] = {"new", "cur"};
    for (int s = 0; s < 2; s++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, subs[s]);
        DIR *d = opendir(path);
        if (d == NULL)
            continue;
        const struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char file[1024];
            snprintf(file, sizeof file, "%s/%s", path, e->d_name);
            FILE *f = fopen(file, "rb");
            if (f == NULL)
                continue;
            fseek(f, 0, SEEK_END);
            long len = ftell(f);
            fseek(f, 0, SEEK_SET);
            char *t = malloc((size_t)len + 1);
            size_t got = fread(t, 1, (size_t)len, f);
            t[got] = '\0';
            fclose(f);
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                texts = realloc(texts, (size_t)cap * sizeof *texts);
            }
            texts[n++] = t;
        }
        closedir(d);
    }
    *out = texts;
    return n;
}

static void texts_free(char **t, int n)
{
    for (int i = 0; i < n; i++)
        free(t[i]);
    free(t);
}

/* How many delivered messages contain needle. */
static int maildir_count(const char *dir, const char *needle)
{
    char **t;
    int n = maildir_read(dir, &t), c = 0;
    for (int i = 0; i < n; i++)
        c += strstr(t[i], needle) != NULL;
    texts_free(t, n);
    return c;
}

/* The token of the first approval link in a delivered message that
 * contains both needles (NULL = any). */
static bool find_link(const char *dir, const char *needle1, const char *needle2,
                      char token[WF_TOKEN_TEXT_MAX])
{
    char **t;
    int n = maildir_read(dir, &t);
    bool found = false;
    for (int i = 0; i < n && !found; i++) {
        if ((needle1 && !strstr(t[i], needle1)) || (needle2 && !strstr(t[i], needle2)))
            continue;
        const char *p = strstr(t[i], "http://peerflow.test/t/");
        if (p == NULL)
            continue;
        p += strlen("http://peerflow.test/t/");
        size_t len = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
        if (len == WF_TOKEN_TEXT_LEN) {
            memcpy(token, p, len);
            token[len] = '\0';
            found = true;
        }
    }
    texts_free(t, n);
    return found;
}

/* Every approval-link token in delivered messages that contain needle
 * (distinct or not), up to max. */
static int find_links(const char *dir, const char *needle, char tokens[][WF_TOKEN_TEXT_MAX],
                      int max)
{
    char **t;
    int n = maildir_read(dir, &t), found = 0;
    for (int i = 0; i < n && found < max; i++) {
        if (needle && !strstr(t[i], needle))
            continue;
        const char *p = strstr(t[i], "http://peerflow.test/t/");
        if (p == NULL)
            continue;
        p += strlen("http://peerflow.test/t/");
        if (strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
            WF_TOKEN_TEXT_LEN) {
            memcpy(tokens[found], p, WF_TOKEN_TEXT_LEN);
            tokens[found++][WF_TOKEN_TEXT_LEN] = '\0';
        }
    }
    texts_free(t, n);
    return found;
}

/* ------------------------------------------------------------ fixture */

struct fx {
    pgt_db db;
    char tmp[64];
    wf_keyring *keys;
    wf_mailer_config cfg;
    char url[128];
};

/* The temporary directory of the running test, removed at exit when a
 * failed assertion skipped fx_end. */
static char current_tmp[64];

static void remove_current_tmp(void)
{
    if (current_tmp[0] && !getenv("PEERFLOW_TEST_KEEP")) {
        char cmd[100];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", current_tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", current_tmp);
    }
    current_tmp[0] = '\0';
}

static void fx_start(struct fx *f, const char *name)
{
    remove_current_tmp(); /* left by a test that failed */
    memset(f, 0, sizeof *f);
    snprintf(f->tmp, sizeof f->tmp, "/tmp/pf-mail-XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    snprintf(current_tmp, sizeof current_tmp, "%s", f->tmp);
    snprintf(smtp_dir, sizeof smtp_dir, "%s/maildir", f->tmp);
    smtp_port = 0;
    char keys[128];
    snprintf(keys, sizeof keys, "%s/keys", f->tmp);
    pf_err err = {0};
    assert_int_equal(wf_keyring_open(keys, &f->keys, &err), PF_OK);
    pgt_create(&f->db, name, false);
    pgt_seed_world(&f->db);
    f->cfg = (wf_mailer_config){.mail_from = "peerflow@ix.example", .keys = f->keys,
                                .retry_base_seconds = 1, .timeout_seconds = 5};
}

static void fx_use_smtp(struct fx *f)
{
    if (smtp_port == 0)
        smtp_port = free_port();
    snprintf(f->url, sizeof f->url, "smtp://127.0.0.1:%d?tls=none", smtp_port);
    f->cfg.smtp_url = f->url;
}

/* The refusing sink (refusing_py), from a module written into f->tmp. */
static void smtp_start_refusing(struct fx *f)
{
    char path[128];
    snprintf(path, sizeof path, "%s/pfsink.py", f->tmp);
    FILE *py = fopen(path, "w");
    assert_non_null(py);
    fputs(refusing_py, py);
    fclose(py);
    setenv("PYTHONPATH", f->tmp, 1);
    smtp_handler = "pfsink.Refusing";
    smtp_start();
    smtp_handler = "aiosmtpd.handlers.Mailbox";
    unsetenv("PYTHONPATH");
}

static void fx_end(struct fx *f)
{
    smtp_stop();
    wf_keyring_free(f->keys);
    pgt_drop(&f->db);
    if (getenv("PEERFLOW_TEST_KEEP")) { /* to look at the mail by hand */
        fprintf(stderr, "kept %s\n", f->tmp);
        return;
    }
    remove_current_tmp();
}

static long long submit(pgt_db *db, const char *who, const char *port, int vlan, long long peer,
                        const char *message)
{
    wf_actor a = pgt_actor(db, who);
    wf_submit_input in = {.port = port, .vlan = vlan, .peer_asn = peer, .message = message};
    long long id = 0;
    pf_err err = {0};
    if (wf_request_submit(&db->env, &a, &in, &id, &err) != PF_OK)
        fail_msg("submit by %s: %s", who, err.message);
    return id;
}

static int run_mailer(struct fx *f, pf_kind expect)
{
    int n = -1;
    pf_err err = {0};
    pf_kind k = wf_mailer_run_once(&f->db.env, &f->cfg, 0, &n, &err);
    if (k != expect)
        fail_msg("mailer returned %d (%s), expected %d", k, err.message, expect);
    return n;
}

static long long q(pgt_db *db, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return atoll(pgt_sql(db, sql));
}

static const char *state_of(pgt_db *db, long long id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT state FROM peering_requests WHERE id = %lld", id);
    return pgt_sql(db, sql);
}

static pf_kind decide_link(struct fx *f, const char *token, const char *decision, pf_err *err)
{
    wf_token_decision d = {.token = token, .decision = decision,
                           .client_addr = "192.0.2.7", .user_agent = "TestBrowser/1.0"};
    return wf_token_decide(&f->db.env, f->keys, &d, err);
}

/* ------------------------------------------------------------- tests */

static void link_flow(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_link");
    fx_use_smtp(&f);
    smtp_start();
    pgt_db *db = &f.db;

    /* admin of A submits to B: A's side is approved, B's contact gets a link */
    long long id = submit(db, "admin@a.example", "a1", 0, 64501,
                          "hello\n.\n.dot line\nbye");
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE request_id = %lld AND kind = "
                           "'approval_needed' AND token_id IS NOT NULL", id), 1);
    /* before delivery: the body has only a placeholder, the token no key */
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE body LIKE '%%/t/%%'"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM approval_tokens WHERE key_id IS NULL"), 1);

    assert_int_equal(run_mailer(&f, PF_OK), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"), 0);
    char token[WF_TOKEN_TEXT_MAX];
    assert_true(find_link(smtp_dir, "To: peering@b.example", NULL, token));

    /* the mail is a proper message: its Message-ID is the outbox's */
    char mid[300];
    snprintf(mid, sizeof mid, "Message-ID: %s",
             pgt_sql(db, "SELECT message_id FROM outbox WHERE kind = 'approval_needed'"));
    assert_int_equal(maildir_count(smtp_dir, mid), 1);
    /* lines that are a lone "." or start with "." arrive intact: libcurl
     * dot-stuffs the DATA stream, the server un-stuffs it */
    assert_int_equal(maildir_count(smtp_dir, "Message:   hello\r\n.\r\n.dot line\r\nbye\r\n") +
                         maildir_count(smtp_dir, "Message:   hello\n.\n.dot line\nbye\n"),
                     1);

    /* the database holds the hash of the token, never the token */
    unsigned char h[32];
    char hex[65], sql[1000];
    wf_token_hash(token, h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    assert_int_equal(q(db, "SELECT count(*) FROM approval_tokens WHERE token_hash = "
                           "decode('%s', 'hex') AND key_id IS NOT NULL", hex), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox o, approval_tokens t WHERE o.body LIKE '%%%s%%' "
             "OR o.subject LIKE '%%%s%%' OR t.contact LIKE '%%%s%%'",
             token, token, token);
    assert_string_equal(pgt_sql(db, sql), "0");

    /* GET: the view, and nothing changes */
    json_t *view = NULL;
    pf_err err = {0};
    assert_int_equal(wf_token_view(&db->env, f.keys, token, &view, &err), PF_OK);
    assert_string_equal(json_string_value(json_object_get(view, "side")), "peer");
    assert_string_equal(json_string_value(json_object_get(view, "contact")), "peering@b.example");
    json_t *req = json_object_get(view, "request");
    assert_string_equal(json_string_value(json_object_get(req, "state")), "pending");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "peer"), "asn")),
                     64501);
    assert_int_equal(json_array_size(json_object_get(view, "actions")), 2);
    assert_false(json_is_true(json_object_get(view, "choose_port")));
    assert_int_equal(json_array_size(json_object_get(view, "ports")), 1);
    json_decref(view);
    assert_string_equal(state_of(db, id), "pending");

    /* POST without a choice: nothing happens, the form is shown again */
    assert_int_equal(decide_link(&f, token, NULL, &err), PF_EINVALID);
    assert_string_equal(err.code, "no_decision");
    assert_int_equal(decide_link(&f, token, "", &err), PF_EINVALID);
    assert_string_equal(err.code, "no_decision");
    assert_int_equal(decide_link(&f, token, "maybe", &err), PF_EINVALID);
    assert_string_equal(err.code, "bad_decision");
    assert_string_equal(state_of(db, id), "pending");
    assert_int_equal(q(db, "SELECT count(*) FROM approval_tokens WHERE used_at IS NOT NULL"), 0);

    /* a link edited by one character is refused, and changes nothing */
    char edited[WF_TOKEN_TEXT_MAX];
    memcpy(edited, token, sizeof edited);
    edited[60] = edited[60] == 'A' ? 'B' : 'A';
    assert_int_not_equal(decide_link(&f, edited, "approve", &err), PF_OK);
    assert_true(strcmp(err.code, "token_bad_signature") == 0 ||
                strcmp(err.code, "token_malformed") == 0);
    assert_int_not_equal(wf_token_view(&db->env, f.keys, edited, &view, &err), PF_OK);
    assert_string_equal(state_of(db, id), "pending");

    /* POST approve: one transaction - approval, token used, audit */
    assert_int_equal(decide_link(&f, token, "approve", &err), PF_OK);
    assert_string_equal(state_of(db, id), "approved");
    assert_int_equal(q(db, "SELECT count(*) FROM approvals WHERE request_id = %lld AND side = "
                           "'peer' AND via = 'email' AND contact = 'peering@b.example' AND "
                           "token_id IS NOT NULL", id), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM approval_tokens WHERE used_at IS NOT NULL"), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM audit_events WHERE action = 'token.used' AND "
                           "actor_kind = 'email' AND actor_label = 'peering@b.example' AND "
                           "after::jsonb->>'client_addr' = '192.0.2.7' AND "
                           "after::jsonb->>'user_agent' = 'TestBrowser/1.0' AND "
                           "after::jsonb->>'token_id' IS NOT NULL"), 1);

    /* the same link again: used */
    assert_int_equal(decide_link(&f, token, "approve", &err), PF_ECONFLICT);
    assert_string_equal(err.code, "token_used");
    assert_int_equal(wf_token_view(&db->env, f.keys, token, &view, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "token_used");

    /* a link of a request cancelled meanwhile: refused */
    long long id2 = submit(db, "admin@a.example", "a-trunk", 300, 64502, NULL);
    wf_actor a = pgt_actor(db, "admin@a.example");
    wf_decision_input none = {0};
    assert_int_equal(wf_request_cancel(&db->env, &a, id2, &none, &err), PF_OK);
    assert_true(run_mailer(&f, PF_OK) >= 2);
    char tok2[WF_TOKEN_TEXT_MAX], subj[64];
    snprintf(subj, sizeof subj, "Peering request #%lld ", id2);
    assert_true(find_link(smtp_dir, "To: peering@c.example", subj, tok2));
    assert_int_equal(wf_token_view(&db->env, f.keys, tok2, &view, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "token_request_closed");
    assert_int_equal(decide_link(&f, tok2, "reject", &err), PF_ECONFLICT);
    assert_string_equal(err.code, "token_request_closed");
    /* both sides were told about the cancellation */
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE request_id = %lld AND kind = "
                           "'request_cancelled' AND delivered_at IS NOT NULL", id2), 2);

    /* a token signed with a key this server never had: unknown key */
    char other[128];
    snprintf(other, sizeof other, "%s/other-keys", f.tmp);
    wf_keyring *ok = NULL;
    assert_int_equal(wf_keyring_open(other, &ok, &err), PF_OK);
    wf_token t = {.request_id = id2, .network_id = 3, .actions = 3,
                  .expires = (long long)time(NULL) + 600};
    char forged[WF_TOKEN_TEXT_MAX];
    assert_int_equal(wf_token_encode(ok, &t, true, forged, &err), PF_OK);
    assert_int_equal(wf_token_view(&db->env, f.keys, forged, &view, &err), PF_EFORBIDDEN);
    assert_string_equal(err.code, "token_unknown_key");
    /* signed with our own key, but never issued: unknown token */
    assert_int_equal(wf_token_encode(f.keys, &t, true, forged, &err), PF_OK);
    assert_int_equal(wf_token_view(&db->env, f.keys, forged, &view, &err), PF_ENOTFOUND);
    assert_string_equal(err.code, "token_unknown");
    wf_keyring_free(ok);
    fx_end(&f);
}

struct racer {
    struct fx *f;
    const char *token;
    pthread_barrier_t *go;
    pf_kind rc;
    pf_err err;
};

static void *race_decide(void *arg)
{
    struct racer *r = arg;
    wf_env env = r->f->db.env;
    env.db = db_connect(r->f->db.app_url, &r->err);
    wf_token_decision d = {.token = r->token, .decision = "approve", .port = "b2",
                           .client_addr = "198.51.100.1", .user_agent = "racer"};
    pthread_barrier_wait(r->go);
    r->rc = env.db ? wf_token_decide(&env, r->f->keys, &d, &r->err) : PF_EUNAVAIL;
    db_close(env.db);
    return NULL;
}

/* Two contacts, a port to choose, a replay race, another contact's link
 * after the decision, and key rotation/revocation between attempts. */
static void link_edge_cases(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_edges");
    fx_use_smtp(&f);
    smtp_start();
    pgt_db *db = &f.db;
    pf_err err = {0};
    wf_actor op = wf_actor_cli();
    long long pid;
    wf_port_input b2 = {"64501", "s2", "4", "b2", "access", NULL};
    assert_int_equal(wf_port_add(&db->env, &op, &b2, &pid, &err), PF_OK);
    pgt_sql(db, "UPDATE networks SET contacts = ARRAY['peering@b.example', 'noc@b.example']"
                " WHERE asn = 64501");

    long long id = submit(db, "admin@a.example", "a1", 0, 64501, NULL);
    /* one message and one token per contact */
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE kind = 'approval_needed' AND "
                           "cardinality(recipients) = 1"), 2);
    assert_int_equal(q(db, "SELECT count(DISTINCT token_id) FROM outbox"), 2);
    assert_int_equal(run_mailer(&f, PF_OK), 2);
    char t1[1][WF_TOKEN_TEXT_MAX], t2[1][WF_TOKEN_TEXT_MAX];
    assert_int_equal(find_links(smtp_dir, "To: peering@b.example", t1, 1), 1);
    assert_int_equal(find_links(smtp_dir, "To: noc@b.example", t2, 1), 1);
    assert_string_not_equal(t1[0], t2[0]);

    /* the peer has two ports: the page must ask which */
    json_t *view = NULL;
    assert_int_equal(wf_token_view(&db->env, f.keys, t1[0], &view, &err), PF_OK);
    assert_true(json_is_true(json_object_get(view, "choose_port")));
    assert_int_equal(json_array_size(json_object_get(view, "ports")), 2);
    json_decref(view);
    /* approving without a port is refused and leaves the token usable */
    assert_int_equal(decide_link(&f, t1[0], "approve", &err), PF_EINVALID);
    assert_string_equal(err.code, "peer_port_required");
    assert_int_equal(q(db, "SELECT count(*) FROM approval_tokens WHERE used_at IS NOT NULL"), 0);

    /* the same link posted twice at once: one decision, one token_used */
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    struct racer r[2] = {{.f = &f, .token = t1[0], .go = &go}, {.f = &f, .token = t1[0], .go = &go}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, race_decide, &r[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    assert_int_equal((r[0].rc == PF_OK) + (r[1].rc == PF_OK), 1);
    struct racer *loser = r[0].rc == PF_OK ? &r[1] : &r[0];
    assert_int_equal(loser->rc, PF_ECONFLICT);
    assert_string_equal(loser->err.code, "token_used");
    assert_string_equal(state_of(db, id), "approved");
    assert_int_equal(q(db, "SELECT count(*) FROM approvals WHERE request_id = %lld", id), 2);
    assert_int_equal(q(db, "SELECT count(*) FROM peering_requests r JOIN ports p ON p.id = "
                           "r.peer_port_id WHERE r.id = %lld AND p.name = 'b2'", id), 1);
    /* the other contact's link: the request is no longer pending */
    assert_int_equal(wf_token_view(&db->env, f.keys, t2[0], &view, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "token_request_closed");

    /* another request; the other contact's link after the first decided */
    long long id2 = submit(db, "eng@a.example", "a-trunk", 400, 64501, NULL);
    /* 2 peer contacts + A's contact, and request #1's "approved" to both sides */
    assert_int_equal(run_mailer(&f, PF_OK), 5);
    char subj[64], a[1][WF_TOKEN_TEXT_MAX], b[4][WF_TOKEN_TEXT_MAX];
    snprintf(subj, sizeof subj, "Peering request #%lld ", id2);
    assert_int_equal(find_links(smtp_dir, "To: noc@a.example", a, 1), 1);
    wf_token_decision d = {.token = a[0], .decision = "approve"};
    assert_int_equal(wf_token_decide(&db->env, f.keys, &d, &err), PF_OK);
    char peer_tokens[2][WF_TOKEN_TEXT_MAX];
    int np = 0;
    {
        char all[8][WF_TOKEN_TEXT_MAX];
        int n = find_links(smtp_dir, subj, all, 8);
        for (int i = 0; i < n; i++)
            if (strcmp(all[i], a[0]) != 0 && np < 2)
                memcpy(peer_tokens[np++], all[i], WF_TOKEN_TEXT_MAX);
    }
    assert_int_equal(np, 2);
    d = (wf_token_decision){.token = peer_tokens[0], .decision = "reject", .reason = "no"};
    assert_int_equal(wf_token_decide(&db->env, f.keys, &d, &err), PF_OK);
    assert_string_equal(state_of(db, id2), "rejected");
    d.token = peer_tokens[1];
    assert_int_equal(wf_token_decide(&db->env, f.keys, &d, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "token_request_closed");

    /* rotation between two deliveries of one message (a worker died after
     * sending): the second copy is the same bytes, signed by the same key */
    long long id3 = submit(db, "admin@a.example", "a-trunk", 401, 64502, NULL);
    assert_int_equal(run_mailer(&f, PF_OK), 3); /* and #2's "rejected" to both sides */
    char key1[WF_KEY_ID_HEX];
    assert_int_equal(wf_keyring_rotate(f.keys, key1, &err), PF_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE outbox SET delivered_at = NULL, next_attempt_at = now() "
                              "WHERE request_id = %lld", id3);
    pgt_sql(db, sql);
    assert_int_equal(run_mailer(&f, PF_OK), 1);
    snprintf(subj, sizeof subj, "Peering request #%lld ", id3);
    assert_int_equal(find_links(smtp_dir, subj, b, 4), 2);
    assert_string_equal(b[0], b[1]);
    assert_int_equal(wf_token_view(&db->env, f.keys, b[0], &view, &err), PF_OK);
    json_decref(view);
    /* revoke the key that signed it: the link dies; a resend signs anew
     * with the current key, and that link works */
    wf_token old;
    assert_int_equal(wf_token_decode(f.keys, b[0], (long long)time(NULL), &old, &err), PF_OK);
    char oldhex[WF_KEY_ID_HEX], cmd[512];
    wf_key_id_hex(old.key_id, oldhex);
    snprintf(cmd, sizeof cmd, "rm %s/keys/%s.* && touch -d '+3 seconds' %s/keys", f.tmp, oldhex,
             f.tmp);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(wf_token_view(&db->env, f.keys, b[0], &view, &err), PF_EFORBIDDEN);
    assert_string_equal(err.code, "token_unknown_key");
    pgt_sql(db, sql);
    assert_int_equal(run_mailer(&f, PF_OK), 1);
    assert_int_equal(find_links(smtp_dir, subj, b, 4), 3);
    int fresh = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(b[i], b[(i + 1) % 3]) != 0 && strcmp(b[i], b[(i + 2) % 3]) != 0)
            fresh = i;
    assert_true(fresh >= 0);
    assert_int_equal(wf_token_view(&db->env, f.keys, b[fresh], &view, &err), PF_OK);
    json_decref(view);
    fx_end(&f);
}

static void smtp_down_then_up(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_retry");
    fx_use_smtp(&f); /* nothing listens yet */
    f.cfg.max_attempts = 1; /* an unreachable server is never the message's fault */
    pgt_db *db = &f.db;
    long long id = submit(db, "admin@a.example", "a1", 0, 64501, NULL);
    assert_int_equal(run_mailer(&f, PF_EUNAVAIL), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE request_id = %lld AND attempts = 1"
                           " AND last_error IS NOT NULL AND delivered_at IS NULL"
                           " AND next_attempt_at > now()", id), 1);
    /* visible in the report */
    wf_actor op = wf_actor_cli();
    pf_table *t = NULL;
    pf_err err = {0};
    assert_int_equal(wf_report_run(&db->env, &op, "mail_queue", 0, &t, &err), PF_OK);
    assert_int_equal(t->nrows, 1);
    pf_table_free(t);

    /* a second failure backs off longer */
    sleep(1);
    assert_int_equal(run_mailer(&f, PF_EUNAVAIL), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE attempts = 2 AND next_attempt_at "
                           "> now() + interval '1 second' AND dead_at IS NULL"), 1);

    smtp_start();
    /* not due yet: nothing is sent before its time */
    assert_int_equal(run_mailer(&f, PF_OK), 0);
    /* the backoff has passed */
    pgt_sql(db, "UPDATE outbox SET next_attempt_at = now() WHERE delivered_at IS NULL");
    assert_int_equal(run_mailer(&f, PF_OK), 1);
    assert_int_equal(run_mailer(&f, PF_OK), 0);
    char mid[300];
    snprintf(mid, sizeof mid, "Message-ID: %s",
             pgt_sql(db, "SELECT message_id FROM outbox WHERE kind = 'approval_needed'"));
    assert_int_equal(maildir_count(smtp_dir, mid), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM reports.mail_queue"), 0);
    /* and its link works (signed at the first attempt, same link now) */
    char token[WF_TOKEN_TEXT_MAX];
    assert_true(find_link(smtp_dir, NULL, NULL, token));
    json_t *view = NULL;
    assert_int_equal(wf_token_view(&db->env, f.keys, token, &view, &err), PF_OK);
    json_decref(view);
    fx_end(&f);
}

struct worker {
    struct fx *f;
    int delivered;
    pf_kind rc;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    pf_err err;
    wf_env env = w->f->db.env;
    env.db = db_connect(w->f->db.app_url, &err);
    w->rc = env.db ? wf_mailer_run_once(&env, &w->f->cfg, 0, &w->delivered, &err) : PF_EUNAVAIL;
    db_close(env.db);
    return NULL;
}

/* Two workers at once over 40 messages: SKIP LOCKED and the lease give
 * each message to one of them; every message arrives exactly once. */
static void workers_share_queue(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_workers");
    fx_use_smtp(&f);
    smtp_start();
    pgt_db *db = &f.db;
    pgt_sql(db, "INSERT INTO outbox (kind, recipients, subject, body, message_id)"
                " SELECT 'request_active', ARRAY['noc@a.example'], 'load ' || g, 'body ' || g,"
                " '<load.' || g || '@peerflow.test>' FROM generate_series(1, 40) g");
    struct timeval t0, t1;
    gettimeofday(&t0, NULL);
    struct worker w[2] = {{.f = &f}, {.f = &f}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, worker_run, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    gettimeofday(&t1, NULL);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_usec - t0.tv_usec) / 1e6;
    fprintf(stderr, "smtp: 40 messages by 2 workers in %.3f s (%.0f msg/s)\n", s, 40 / s);
    assert_int_equal(w[0].rc, PF_OK);
    assert_int_equal(w[1].rc, PF_OK);
    assert_int_equal(w[0].delivered + w[1].delivered, 40);
    char **texts;
    int n = maildir_read(smtp_dir, &texts);
    assert_int_equal(n, 40);
    for (int g = 1; g <= 40; g++) {
        char mid[64];
        snprintf(mid, sizeof mid, "Message-ID: <load.%d@peerflow.test>\r", g);
        int c = 0;
        for (int i = 0; i < n; i++)
            c += strstr(texts[i], mid) != NULL;
        if (c != 1) {
            /* aiosmtpd may store LF line ends */
            snprintf(mid, sizeof mid, "Message-ID: <load.%d@peerflow.test>\n", g);
            for (int i = 0; i < n; i++)
                c += strstr(texts[i], mid) != NULL;
        }
        if (c != 1)
            fail_msg("message %d arrived %d times", g, c);
    }
    texts_free(texts, n);
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE attempts <> 1"), 0);
    fx_end(&f);
}

static void auto_approve(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_auto");
    pgt_db *db = &f.db;
    /* an open network that approves everything, with one port */
    wf_actor op = wf_actor_cli();
    pf_err err = {0};
    long long nid;
    const char *cd[] = {"peering@d.example"};
    wf_network_input nd = {"64503", "Net D", "open", cd, 1, true};
    assert_int_equal(wf_network_add(&db->env, &op, &nd, &nid, &err), PF_OK);
    wf_port_input pd = {"64503", "s2", "3", "d1", "access", NULL};
    assert_int_equal(wf_port_add(&db->env, &op, &pd, &nid, &err), PF_OK);

    char url[128];
    snprintf(url, sizeof url, "file:%s/out", f.tmp);
    f.cfg.smtp_url = url;
    long long id = submit(db, "admin@a.example", "a1", 0, 64503, NULL);
    assert_string_equal(state_of(db, id), "approved");
    assert_int_equal(q(db, "SELECT count(*) FROM approvals WHERE request_id = %lld AND via = "
                           "'auto-policy'", id), 1);
    assert_int_equal(q(db, "SELECT count(*) FROM approval_tokens"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE token_id IS NOT NULL"), 0);
    /* D: told it auto-approved, then approved; A: approved */
    assert_int_equal(run_mailer(&f, PF_OK), 3);
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE kind = 'auto_approved' AND "
                           "recipients = ARRAY['peering@d.example'] AND delivered_at IS NOT NULL"),
                     1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "grep -l 'peering@d.example' %s/out/*.eml | wc -l", f.tmp);
    FILE *p = popen(cmd, "r");
    int files = 0;
    assert_int_equal(fscanf(p, "%d", &files), 1);
    pclose(p);
    assert_int_equal(files, 2);
    snprintf(cmd, sizeof cmd, "! grep -l '/t/' %s/out/*.eml", f.tmp);
    assert_int_equal(system(cmd), 0);
    fx_end(&f);
}

static void expiry(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_expiry");
    fx_use_smtp(&f);
    smtp_start();
    pgt_db *db = &f.db;
    long long id = submit(db, "eng@a.example", "a1", 0, 64501, NULL);
    /* an engineer's submission: both sides' contacts get a link */
    assert_int_equal(q(db, "SELECT count(*) FROM approval_tokens WHERE request_id = %lld", id),
                     2);
    assert_int_equal(run_mailer(&f, PF_OK), 2);
    char token[WF_TOKEN_TEXT_MAX];
    assert_true(find_link(smtp_dir, "To: noc@a.example", NULL, token));
    pgt_sql(db, "UPDATE peering_requests SET expires_at = now() - interval '1 minute'");
    int n = 0;
    pf_err err = {0};
    assert_int_equal(wf_request_expire_due(&db->env, &n, &err), PF_OK);
    assert_int_equal(n, 1);
    assert_string_equal(state_of(db, id), "expired");
    assert_int_equal(run_mailer(&f, PF_OK), 2);
    assert_int_equal(maildir_count(smtp_dir, "expired"), 2);
    json_t *view = NULL;
    assert_int_equal(wf_token_view(&db->env, f.keys, token, &view, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "token_request_closed");
    fx_end(&f);
}

/* file:DIR - one .eml per message, parsed by Python's email package. */
static void file_delivery(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_file");
    pgt_db *db = &f.db;
    pgt_sql(db, "UPDATE networks SET name = 'Netz Müller 日本' WHERE asn = 64501");
    char url[256], dir[128];
    snprintf(dir, sizeof dir, "%s/eml", f.tmp);
    snprintf(url, sizeof url, "file:%s", dir);
    f.cfg.smtp_url = url;
    submit(db, "admin@a.example", "a1", 0, 64501, "Grüße aus Frankfurt");
    assert_int_equal(run_mailer(&f, PF_OK), 1);

    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && ls -A | grep -c '^\\.tmp' ; ls *.eml | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int tmp = -1, eml = -1;
    assert_int_equal(fscanf(p, "%d %d", &tmp, &eml), 2);
    pclose(p);
    assert_int_equal(tmp, 0);
    assert_int_equal(eml, 1);

    /* an independent reader: Python's email package (policy default
     * decodes RFC 2047 and quoted-printable) */
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 - '%s' <<'EOF'\n"
             "import email, email.policy, glob, sys\n"
             "f = glob.glob(sys.argv[1] + '/*.eml')[0]\n"
             "raw = open(f, 'rb').read()\n"
             "assert b'\\r\\n' in raw and b'\\n' not in raw.replace(b'\\r\\n', b''), 'CRLF'\n"
             "m = email.message_from_bytes(raw, policy=email.policy.default)\n"
             "assert m['Subject'] == 'Peering request #1 AS64500 Net A -> AS64501 Netz Müller 日本 "
             "needs your decision', m['Subject']\n"
             "assert m['To'] == 'peering@b.example', m['To']\n"
             "assert m['From'] == 'peerflow@ix.example'\n"
             "assert m['Message-ID'].startswith('<pf.1.approval_needed.')\n"
             "assert m['Date'] and m['MIME-Version'] == '1.0'\n"
             "assert m.get_content_type() == 'text/plain' and m.get_content_charset() == 'utf-8'\n"
             "assert m['Content-Transfer-Encoding'] == 'quoted-printable'\n"
             "body = m.get_content()\n"
             "assert 'Grüße aus Frankfurt' in body, body\n"
             "assert 'http://peerflow.test/t/' in body, body\n"
             "assert max(len(l) for l in raw.split(b'\\r\\n')) <= 78\n"
             "EOF",
             dir);
    assert_int_equal(system(cmd), 0);

    /* delivering again (a crash before delivered_at was committed) writes
     * the same file, not a second one */
    pgt_sql(db, "UPDATE outbox SET delivered_at = NULL, next_attempt_at = now()");
    assert_int_equal(run_mailer(&f, PF_OK), 1);
    snprintf(cmd, sizeof cmd, "ls '%s'/*.eml | wc -l", dir);
    p = popen(cmd, "r");
    assert_int_equal(fscanf(p, "%d", &eml), 1);
    pclose(p);
    assert_int_equal(eml, 1);

    /* throughput of file: delivery (for the report; fsync per message) */
    pgt_sql(db, "INSERT INTO outbox (kind, recipients, subject, body, message_id)"
                " SELECT 'request_active', ARRAY['noc@a.example'], 'load ' || g, 'body ' || g,"
                " '<load.' || g || '@peerflow.test>' FROM generate_series(1, 200) g");
    struct timeval t0, t1;
    gettimeofday(&t0, NULL);
    int n = 0;
    pf_err err = {0};
    assert_int_equal(wf_mailer_run_once(&db->env, &f.cfg, 1000, &n, &err), PF_OK);
    gettimeofday(&t1, NULL);
    assert_int_equal(n, 200);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_usec - t0.tv_usec) / 1e6;
    fprintf(stderr, "file: 200 messages in %.3f s (%.0f msg/s)\n", s, 200 / s);

    /* a bad URL is a configuration error, not a delivery failure */
    f.cfg.smtp_url = "http://example.com";
    assert_int_equal(wf_mailer_run_once(&db->env, &f.cfg, 0, &n, &err), PF_EINVALID);
    assert_string_equal(err.code, "bad_smtp_url");
    fx_end(&f);
}

/* ------------------------------------------------- trust: TLS, dead letters */

/* Runs SQL as the owner with one text parameter (addresses with quotes,
 * CR, LF). */
static void owner_exec1(pgt_db *db, const char *sql, const char *param)
{
    const char *p[1] = {param};
    PGresult *r = PQexecParams(db->owner, sql, 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(db->owner));
    PQclear(r);
}

static const char *report_state(pgt_db *db, long long outbox_id)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT state FROM reports.mail_queue WHERE outbox_id = %lld",
             outbox_id);
    return pgt_sql(db, sql);
}

/* The gauge as /metrics prints it. */
static long long metric(struct fx *f, const char *name)
{
    json_t *g = NULL;
    pf_err err = {0};
    wf_actor op = wf_actor_cli();
    assert_int_equal(wf_gauges(&f->db.env, &op, &g, &err), PF_OK);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    web_metrics_write(m, g);
    fclose(m);
    json_decref(g);
    char needle[80];
    snprintf(needle, sizeof needle, "\n%s ", name);
    const char *at = strstr(buf, needle);
    long long v = at ? atoll(at + strlen(needle)) : -1;
    free(buf);
    return v;
}

/* smtp:// requires TLS: the sink offers no STARTTLS (as when a man in the
 * middle strips it), so nothing is sent, with an error that says how to
 * allow cleartext; ?tls=none delivers. Options are checked. */
static void smtp_requires_tls(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_tls");
    smtp_port = free_port();
    smtp_start();
    pgt_db *db = &f.db;
    submit(db, "admin@a.example", "a1", 0, 64501, NULL);
    snprintf(f.url, sizeof f.url, "smtp://127.0.0.1:%d", smtp_port);
    f.cfg.smtp_url = f.url;
    int n = -1;
    pf_err err = {0};
    assert_int_equal(wf_mailer_run_once(&db->env, &f.cfg, 0, &n, &err), PF_EUNAVAIL);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.message, "TLS is required"));
    assert_non_null(strstr(err.message, "?tls=none"));
    assert_int_equal(maildir_count(smtp_dir, "Message-ID"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE last_error LIKE '%%TLS is "
                           "required%%' AND dead_at IS NULL AND delivered_at IS NULL"), 1);
    /* tls=required says the same as the default */
    pgt_sql(db, "UPDATE outbox SET next_attempt_at = now()");
    snprintf(f.url, sizeof f.url, "smtp://127.0.0.1:%d?tls=required", smtp_port);
    assert_int_equal(wf_mailer_run_once(&db->env, &f.cfg, 0, &n, &err), PF_EUNAVAIL);
    assert_non_null(strstr(err.message, "TLS is required"));
    /* cleartext when the URL says so */
    pgt_sql(db, "UPDATE outbox SET next_attempt_at = now()");
    snprintf(f.url, sizeof f.url, "smtp://127.0.0.1:%d?tls=none", smtp_port);
    assert_int_equal(run_mailer(&f, PF_OK), 1);
    assert_int_equal(maildir_count(smtp_dir, "To: peering@b.example"), 1);

    /* unknown or contradictory options are configuration errors */
    const char *bad[] = {"smtp://127.0.0.1:25?tls=maybe", "smtp://127.0.0.1:25?starttls=0",
                         "smtps://127.0.0.1:465?tls=none",
                         "smtp://user:pw@127.0.0.1:25?tls=none", "smtp://127.0.0.1:25#x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f.cfg.smtp_url = bad[i];
        assert_int_equal(wf_mailer_run_once(&db->env, &f.cfg, 0, &n, &err), PF_EINVALID);
        assert_string_equal(err.code, "bad_smtp_url");
    }
    f.cfg.smtp_url = "smtp://127.0.0.1:25?tls=maybe";
    wf_mailer_run_once(&db->env, &f.cfg, 0, &n, &err);
    assert_non_null(strstr(err.message, "unknown option 'tls=maybe'"));
    fx_end(&f);
}

/* A 5xx to the recipient: a dead letter at once, never retried, in the
 * report and in /metrics. A 4xx: retried, dead after max_attempts. The
 * server unreachable: never dead (smtp_down_then_up). */
static void dead_letters(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_dead");
    fx_use_smtp(&f);
    smtp_start_refusing(&f);
    pgt_db *db = &f.db;
    pgt_sql(db, "UPDATE networks SET contacts = ARRAY['refused@b.example'] WHERE asn = 64501");
    long long id = submit(db, "admin@a.example", "a1", 0, 64501, NULL);
    long long oid = q(db, "SELECT id FROM outbox WHERE request_id = %lld", id);
    int n = -1;
    pf_err err = {0};
    assert_int_equal(wf_mailer_run_once(&db->env, &f.cfg, 0, &n, &err), PF_EUNAVAIL);
    assert_non_null(strstr(err.message, "1 dead letter"));
    assert_int_equal(n, 0);
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE id = %lld AND dead_at IS NOT NULL"
                           " AND attempts = 1 AND last_error LIKE '%%550%%'", oid), 1);
    assert_string_equal(report_state(db, oid), "dead");
    assert_int_equal(metric(&f, "peerflow_outbox_dead"), 1);
    assert_int_equal(metric(&f, "peerflow_outbox_pending"), 0);
    /* never retried, even when due */
    pgt_sql(db, "UPDATE outbox SET next_attempt_at = now() - interval '1 hour'");
    assert_int_equal(run_mailer(&f, PF_OK), 0);
    assert_int_equal(q(db, "SELECT attempts FROM outbox WHERE id = %lld", oid), 1);
    assert_int_equal(maildir_count(smtp_dir, "Message-ID"), 0);

    /* 4xx: retried; with max_attempts 2 the second failure is the last */
    pgt_sql(db, "INSERT INTO outbox (kind, recipients, subject, body, message_id) VALUES"
                " ('request_active', ARRAY['busy@a.example'], 's', 'b', '<busy.1@peerflow.test>')");
    long long bid = q(db, "SELECT id FROM outbox WHERE message_id = '<busy.1@peerflow.test>'");
    f.cfg.max_attempts = 2;
    assert_int_equal(run_mailer(&f, PF_EUNAVAIL), 0);
    assert_string_equal(report_state(db, bid), "pending");
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE id = %lld AND dead_at IS NULL AND"
                           " last_error LIKE '%%450%%'", bid), 1);
    pgt_sql(db, "UPDATE outbox SET next_attempt_at = now() WHERE dead_at IS NULL");
    assert_int_equal(run_mailer(&f, PF_EUNAVAIL), 0);
    assert_string_equal(report_state(db, bid), "dead");
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE id = %lld AND last_error LIKE "
                           "'gave up after 2 attempts%%450%%'", bid), 1);
    assert_int_equal(metric(&f, "peerflow_outbox_dead"), 2);
    /* a good message in the same queue still goes */
    pgt_sql(db, "INSERT INTO outbox (kind, recipients, subject, body, message_id) VALUES"
                " ('request_active', ARRAY['noc@a.example'], 's', 'b', '<ok.1@peerflow.test>')");
    assert_int_equal(run_mailer(&f, PF_OK), 1);
    assert_int_equal(maildir_count(smtp_dir, "<ok.1@peerflow.test>"), 1);
    fx_end(&f);
}

/* One address check: what input refuses, the mailer refuses (a dead
 * letter, nothing sent), and what input accepts, the mailer encodes. */
static void one_address_check(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_addr");
    fx_use_smtp(&f);
    smtp_start();
    pgt_db *db = &f.db;
    char long_local[80], long_total[300];
    snprintf(long_local, sizeof long_local, "%065d@b.example", 0);
    memset(long_total, 'a', 250);
    snprintf(long_total + 250, sizeof long_total - 250, "@b.example");
    const char *bad[] = {"a@b.example\r\nBcc: x@evil.example", "noc@b.example\n",
                         "m\xc3\xbcller@b.example", "a b@b.example", "<a@b.example>",
                         "a@b", "a..b@b.example", ".a@b.example", "a@b..example",
                         "a@-b.example", "a\"b@b.example", "a@b.example,c@d.example",
                         "a;b@b.example", "a@b.example>", "a(b)@b.example", "a@[10.0.0.1]",
                         long_local, long_total};
    wf_actor op = wf_actor_cli();
    pf_err err = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* input: a network's contacts, the same function as user emails */
        assert_int_equal(wf_check_email(bad[i], "contact", &err), PF_EINVALID);
        const char *c[] = {bad[i]};
        char asn[16];
        snprintf(asn, sizeof asn, "%zu", 64600 + i);
        wf_network_input in = {asn, "Bad Net", NULL, c, 1, false};
        long long nid;
        if (wf_network_add(&db->env, &op, &in, &nid, &err) != PF_EINVALID)
            fail_msg("contact %zu accepted as input", i);
        /* the mailer: formatting refuses it */
        json_t *to = json_pack("[s]", bad[i]);
        char *rc = json_dumps(to, JSON_COMPACT);
        json_decref(to);
        wf_mail m = {.from = "peerflow@ix.example", .recipients = rc, .subject = "s",
                     .body = "b", .message_id = "<x.1@ix.example>"};
        char *text = NULL;
        if (wf_mail_format(&m, &text, &err) != PF_EINVALID)
            fail_msg("address %zu encoded by the mailer", i);
        free(rc);
        /* and a row that holds it (written by hand) becomes a dead letter */
        char mid[64];
        snprintf(mid, sizeof mid, "<bad.%zu@peerflow.test>", i);
        char sql[300];
        snprintf(sql, sizeof sql,
                 "INSERT INTO outbox (kind, recipients, subject, body, message_id) VALUES"
                 " ('request_active', ARRAY[$1::text], 's', 'b', '%s')", mid);
        owner_exec1(db, sql, bad[i]);
    }
    int n = -1;
    assert_int_equal(wf_mailer_run_once(&db->env, &f.cfg, 0, &n, &err), PF_EUNAVAIL);
    assert_int_equal(n, 0);
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL AND "
                           "last_error LIKE 'cannot encode the message%%'"),
                     (long long)(sizeof bad / sizeof bad[0]));
    assert_int_equal(maildir_count(smtp_dir, "Message-ID"), 0);

    /* what input accepts, the mailer sends */
    char local64[80];
    snprintf(local64, sizeof local64, "%064d@b.example", 0);
    const char *good[] = {"noc@b.example", "o'brien+tag@sub.example.org", "a_b-c@x-y.example",
                          "x!#$%&*/=?^`{|}~@b.example", local64};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(wf_check_email(good[i], "contact", &err), PF_OK);
        char mid[64], sql[300];
        snprintf(mid, sizeof mid, "<good.%zu@peerflow.test>", i);
        snprintf(sql, sizeof sql,
                 "INSERT INTO outbox (kind, recipients, subject, body, message_id) VALUES"
                 " ('request_active', ARRAY[$1::text], 's', 'b', '%s')", mid);
        owner_exec1(db, sql, good[i]);
    }
    assert_int_equal(run_mailer(&f, PF_OK), (int)(sizeof good / sizeof good[0]));
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char mid[64];
        snprintf(mid, sizeof mid, "<good.%zu@peerflow.test>", i);
        assert_int_equal(maildir_count(smtp_dir, mid), 1);
    }
    fx_end(&f);
}

/* 40 contacts of 60 characters and a network name of 100 CJK characters
 * (300 bytes): every contact gets its link, the notification to all of
 * them reaches all of them, nothing is cut. */
static void many_long_contacts(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_many");
    fx_use_smtp(&f);
    smtp_start();
    pgt_db *db = &f.db;
    enum { N = 40 };
    char addr[N][64];
    char sql[8192] = "UPDATE networks SET contacts = ARRAY[";
    for (int i = 0; i < N; i++) {
        /* 60 characters: "contact-NN-" + padding + "@b.example" */
        snprintf(addr[i], sizeof addr[i], "contact-%02d-%.*s@b.example", i, 60 - 11 - 10,
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        assert_int_equal(strlen(addr[i]), 60);
        char one[80];
        snprintf(one, sizeof one, "%s'%s'", i ? "," : "", addr[i]);
        strcat(sql, one);
    }
    char name[400] = "";
    for (int i = 0; i < 100; i++)
        strcat(name, "\xe6\x97\xa5"); /* 日 */
    strcat(sql, "], name = $1 WHERE asn = 64501");
    owner_exec1(db, sql, name);

    long long id = submit(db, "admin@a.example", "a1", 0, 64501, NULL);
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE request_id = %lld AND kind = "
                           "'approval_needed'", id), N);
    /* the subject holds the whole name */
    char chk[600];
    snprintf(chk, sizeof chk, "SELECT count(*) FROM outbox WHERE strpos(subject, '%s') > 0",
             name);
    assert_int_equal(atoll(pgt_sql(db, chk)), N);
    assert_int_equal(run_mailer(&f, PF_OK), N);
    for (int i = 0; i < N; i++) {
        char to[80];
        snprintf(to, sizeof to, "To: %s", addr[i]);
        if (maildir_count(smtp_dir, to) != 1)
            fail_msg("contact %d got no link", i);
    }
    /* the requester cancels: the notification goes to all 40 at once */
    wf_actor a = pgt_actor(db, "admin@a.example");
    wf_decision_input none = {0};
    pf_err err = {0};
    assert_int_equal(wf_request_cancel(&db->env, &a, id, &none, &err), PF_OK);
    assert_int_equal(q(db, "SELECT cardinality(recipients) FROM outbox WHERE kind = "
                           "'request_cancelled' AND network_id = (SELECT id FROM networks "
                           "WHERE asn = 64501)"), N);
    assert_int_equal(run_mailer(&f, PF_OK), 2);
    char **t;
    int nt = maildir_read(smtp_dir, &t), found = 0;
    for (int m = 0; m < nt; m++) {
        if (!strstr(t[m], "cancelled the request") || !strstr(t[m], "X-RcptTo"))
            continue;
        int all = 1;
        for (int i = 0; i < N; i++)
            all &= strstr(t[m], addr[i]) != NULL; /* in To: and in the envelope */
        const char *env = strstr(t[m], "X-RcptTo:");
        int in_env = 0;
        for (int i = 0; env && i < N; i++)
            in_env += strstr(env, addr[i]) != NULL;
        if (all && in_env == N)
            found++;
    }
    texts_free(t, nt);
    assert_int_equal(found, 1);
    fx_end(&f);
}

/* The mailer signs a link only for the contact its token was issued to:
 * an outbox row changed by hand (recipients, or another request's token)
 * is a dead letter, and no link reaches anybody. */
static void link_only_for_its_contact(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, "mail_tamper");
    fx_use_smtp(&f);
    smtp_start();
    pgt_db *db = &f.db;
    long long id1 = submit(db, "admin@a.example", "a1", 0, 64501, NULL);
    long long id2 = submit(db, "admin@a.example", "a-trunk", 500, 64502, NULL);
    long long id3 = submit(db, "admin@a.example", "a-trunk", 501, 64501, NULL);
    /* 1: to an attacker instead of the contact */
    char sql[400];
    snprintf(sql, sizeof sql, "UPDATE outbox SET recipients = ARRAY['attacker@evil.example']"
                              " WHERE request_id = %lld", id1);
    pgt_sql(db, sql);
    /* 2: to the contact and an attacker */
    snprintf(sql, sizeof sql, "UPDATE outbox SET recipients = recipients || "
                              "'copy@evil.example'::text WHERE request_id = %lld", id2);
    pgt_sql(db, sql);
    /* 3: its own recipient, but the token of request 1 (B's contact too) */
    snprintf(sql, sizeof sql, "UPDATE outbox SET token_id = (SELECT token_id FROM outbox WHERE"
                              " request_id = %lld) WHERE request_id = %lld", id1, id3);
    pgt_sql(db, sql);
    int n = -1;
    pf_err err = {0};
    assert_int_equal(wf_mailer_run_once(&db->env, &f.cfg, 0, &n, &err), PF_EUNAVAIL);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.message, "3 dead letters"));
    assert_int_equal(maildir_count(smtp_dir, "Message-ID"), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL AND "
                           "last_error LIKE 'refused to sign the approval link%%'"), 3);
    /* nothing was signed or bound */
    assert_int_equal(q(db, "SELECT count(*) FROM approval_tokens WHERE key_id IS NOT NULL"), 0);
    pgt_sql(db, "UPDATE outbox SET next_attempt_at = now()");
    assert_int_equal(run_mailer(&f, PF_OK), 0);
    assert_int_equal(maildir_count(smtp_dir, "Message-ID"), 0);
    fx_end(&f);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    atexit(remove_current_tmp);
    atexit(smtp_stop); /* runs first */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(link_flow),       cmocka_unit_test(link_edge_cases),
        cmocka_unit_test(smtp_down_then_up),
        cmocka_unit_test(workers_share_queue), cmocka_unit_test(auto_approve),
        cmocka_unit_test(expiry),          cmocka_unit_test(file_delivery),
        cmocka_unit_test(smtp_requires_tls), cmocka_unit_test(dead_letters),
        cmocka_unit_test(one_address_check), cmocka_unit_test(many_long_contacts),
        cmocka_unit_test(link_only_for_its_contact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
