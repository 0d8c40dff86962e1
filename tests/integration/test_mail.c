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

/* Starts aiosmtpd on smtp_port (chosen once per test) into smtp_dir. */
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
              "aiosmtpd.handlers.Mailbox", smtp_dir, (char *)NULL);
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
                           "> now() + interval '1 second'"), 1);

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
