/* Accounts over HTTP: the real web server (in this process) against a
 * real PostgreSQL. Covers the access log's redaction, trusted proxies
 * (the client address behind them), atomic login throttling with
 * per-account backoff under concurrent attempts, the self-service password
 * change, disabled users, operator password resets and session pruning.
 *
 * The server trusts 127.0.0.0/8 as a proxy, so each test picks its own
 * client address with X-Forwarded-For and the throttling of one test does
 * not reach the next. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "tests/support/pgtest.h"
#include "web/server.h"
#include "workflow/admin.h"
#include "workflow/auth.h"

#define PASSWORD "correct-horse-battery"

static pgt_db db;
static web_server *srv;
static char base[64];

/* --------------------------------------------------------- http client */

typedef struct {
    long status;
    char *body;
    size_t len;
    char headers[8192];
} resp;

typedef struct {
    char cookie[512];
    char csrf[128];
    char bearer[128];
    char xff[64]; /* X-Forwarded-For to send ("" none) */
} client;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    char *b = realloc(r->body, r->len + sz * n + 1);
    memcpy(b + r->len, p, sz * n);
    r->body = b;
    r->len += sz * n;
    b[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    size_t have = strlen(r->headers);
    snprintf(r->headers + have, sizeof r->headers - have, "%.*s", (int)(sz * n), p);
    return sz * n;
}

/* Keeps the Set-Cookie values of an answer in the client's cookie line. */
static void keep_cookies(client *c, const resp *r)
{
    const char *p = r->headers;
    while ((p = strcasestr(p, "Set-Cookie: ")) != NULL) {
        p += 12;
        const char *eq = strchr(p, '='), *semi = strchr(p, ';');
        if (!eq || !semi)
            break;
        char name[64], value[256], line[512] = "", copy[512], *save = NULL;
        snprintf(name, sizeof name, "%.*s", (int)(eq - p), p);
        snprintf(value, sizeof value, "%.*s", (int)(semi - eq - 1), eq + 1);
        snprintf(copy, sizeof copy, "%s", c->cookie);
        for (char *t = strtok_r(copy, "; ", &save); t; t = strtok_r(NULL, "; ", &save))
            if (strncmp(t, name, strlen(name)) != 0 || t[strlen(name)] != '=')
                snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s",
                         *line ? "; " : "", t);
        if (*value)
            snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s=%s",
                     *line ? "; " : "", name, value);
        snprintf(c->cookie, sizeof c->cookie, "%s", line);
    }
}

static resp http(client *c, const char *method, const char *path, const char *form)
{
    resp r = {0};
    CURL *h = curl_easy_init();
    char url[512], line[600];
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *hd = NULL;
    if (c && c->cookie[0])
        curl_easy_setopt(h, CURLOPT_COOKIE, c->cookie);
    if (c && c->bearer[0]) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", c->bearer);
        hd = curl_slist_append(hd, line);
    }
    if (c && c->xff[0]) {
        snprintf(line, sizeof line, "X-Forwarded-For: %s", c->xff);
        hd = curl_slist_append(hd, line);
    }
    if (form) {
        hd = curl_slist_append(hd, "Content-Type: application/x-www-form-urlencoded");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK)
        fprintf(stderr, "%s %s: %s\n", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    if (r.body == NULL)
        r.body = calloc(1, 1);
    if (c)
        keep_cookies(c, &r);
    return r;
}

static void done(resp *r)
{
    free(r->body);
}

static void find_csrf(const char *html, char *out, size_t n)
{
    const char *p = strstr(html, "name=\"csrf\" value=\"");
    out[0] = '\0';
    if (p) {
        p += 19;
        snprintf(out, n, "%.*s", (int)(strchr(p, '"') - p), p);
    }
}

/* Fetches the login form into c (its CSRF cookie) and returns the form's
 * token in tok. */
static void login_form(client *c, char *tok, size_t n)
{
    resp r = http(c, "GET", "/login", NULL);
    assert_int_equal(r.status, 200);
    find_csrf(r.body, tok, n);
    done(&r);
}

/* One login attempt; returns the status (303 logged in). */
static long try_login(client *c, const char *email, const char *password, int *retry_after)
{
    char tok[128], form[512];
    c->cookie[0] = '\0'; /* a fresh browser: a logged-in one is sent away from /login */
    login_form(c, tok, sizeof tok);
    snprintf(form, sizeof form, "csrf=%s&email=%s&password=%s", tok, email, password);
    resp r = http(c, "POST", "/login", form);
    long st = r.status;
    if (retry_after) {
        const char *ra = strcasestr(r.headers, "Retry-After: ");
        *retry_after = ra ? atoi(ra + 13) : -1;
    }
    done(&r);
    return st;
}

static client login_from(const char *email, const char *password, const char *addr)
{
    client c = {0};
    snprintf(c.xff, sizeof c.xff, "%s", addr);
    long st = try_login(&c, email, password, NULL);
    if (st != 303)
        fail_msg("login %s from %s: %ld", email, addr, st);
    resp r = http(&c, "GET", "/account", NULL);
    assert_int_equal(r.status, 200);
    find_csrf(r.body, c.csrf, sizeof c.csrf);
    done(&r);
    return c;
}

__attribute__((format(printf, 1, 2))) static const char *count(const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return pgt_sql(&db, sql);
}

/* ------------------------------------------------------------ set-up */

static int setup(void **state)
{
    (void)state;
    pgt_create(&db, "accounts", false);
    pgt_seed_world(&db);
    char hash[128], sql[400];
    pf_err err;
    assert_int_equal(wf_password_hash(PASSWORD, hash, &err), PF_OK);
    snprintf(sql, sizeof sql, "UPDATE users SET password_hash = '%s'", hash);
    pgt_sql(&db, sql);
    web_config cfg = {.listen = "127.0.0.1:0",
                      .database_url = db.app_url,
                      .base_url = "http://peerflow.test",
                      .threads = 8,
                      .timeout_seconds = 30,
                      .access_log = true,
                      .trusted_proxies = "127.0.0.0/8, ::1/128"};
    srv = web_server_start(&cfg, &err);
    if (srv == NULL)
        fail_msg("server: %s", err.message);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", web_server_port(srv));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    web_server_stop(srv);
    pgt_drop(&db);
    return 0;
}

/* ------------------------------------------------------------- tests */

/* Reads a whole file (caller frees). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void access_log_redacts_secrets(void **state)
{
    (void)state;
    /* a token-shaped secret: 147 characters of base64url */
    unsigned char raw[110];
    char token[160];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, sizeof token, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_int_equal(strlen(token), 147);
    char logfile[] = "/tmp/pf-accounts-log-XXXXXX";
    int fd = mkstemp(logfile);
    assert_true(fd >= 0);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fd, 1);
    dup2(fd, 2);

    client c = {0};
    char path[400];
    snprintf(path, sizeof path, "/t/%s", token);
    resp r = http(&c, "GET", path, NULL);
    long st1 = r.status;
    done(&r);
    snprintf(path, sizeof path, "/t/%s?token=query-secret-1&password=query-secret-2", token);
    r = http(&c, "POST", path, "decision=approve");
    done(&r);
    r = http(&c, "GET", "/login?next_token=query-secret-3", NULL);
    done(&r);
    r = http(&c, "GET", "/nowhere%0Aweb:%20forged", NULL);
    done(&r);

    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(fd);
    char *log = slurp(logfile);
    unlink(logfile);
    if (st1 == 0)
        fail_msg("no answer for GET /t/...");
    assert_non_null(strstr(log, "GET /t/REDACTED "));
    /* libmicrohttpd hands over the path without its query string */
    assert_non_null(strstr(log, "POST /t/REDACTED "));
    assert_non_null(strstr(log, "GET /login "));
    char head[20];
    snprintf(head, sizeof head, "%.16s", token);
    if (strstr(log, head) != NULL)
        fail_msg("the log holds the token: %s", log);
    assert_null(strstr(log, "query-secret"));
    /* a URL cannot start a forged log line */
    assert_null(strstr(log, "\nweb: forged"));
    assert_non_null(strstr(log, "/nowhere%0Aweb:%20forged"));
    free(log);
}

static void trusted_proxies_give_the_client_address(void **state)
{
    (void)state;
    /* behind the trusted proxy: the address X-Forwarded-For names */
    client c = login_from("admin@c.example", PASSWORD, "198.51.100.1, 203.0.113.5");
    (void)c;
    assert_string_equal(count("SELECT string_agg(DISTINCT client_addr, ',') FROM sessions s"
                              " JOIN users u ON u.id = s.user_id WHERE u.email = '%s'",
                              "admin@c.example"),
                        "203.0.113.5");
    assert_string_equal(count("SELECT count(*) FROM audit_events WHERE action = 'user.login'"
                              " AND after->>'client_addr' = '%s'",
                              "203.0.113.5"),
                        "1");
    /* throttling keys on it: one address at its limit, another not */
    pgt_sql(&db, "INSERT INTO login_throttle (key, failures) VALUES ('addr:192.0.2.66', 20)");
    client a = {.xff = "192.0.2.66"}, b = {.xff = "192.0.2.67"};
    assert_int_equal(try_login(&a, "admin@c.example", "wrong-password-1", NULL), 429);
    assert_int_equal(try_login(&b, "admin@c.example", "wrong-password-1", NULL), 401);
    pgt_sql(&db, "DELETE FROM login_throttle");

    /* a server that trusts no proxy ignores the header */
    pf_err err;
    web_config cfg = {.listen = "127.0.0.1:0", .database_url = db.app_url, .threads = 1};
    web_server *plain = web_server_start(&cfg, &err);
    assert_non_null(plain);
    char saved[64];
    snprintf(saved, sizeof saved, "%s", base);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", web_server_port(plain));
    client d = login_from("admin@b.example", PASSWORD, "203.0.113.77");
    (void)d;
    snprintf(base, sizeof base, "%s", saved);
    web_server_stop(plain);
    assert_string_equal(count("SELECT string_agg(DISTINCT client_addr, ',') FROM sessions s"
                              " JOIN users u ON u.id = s.user_id WHERE u.email = '%s'",
                              "admin@b.example"),
                        "127.0.0.1");
    pgt_sql(&db, "DELETE FROM login_throttle");

    /* a bad CIDR stops the start with a clear error */
    web_config bad = {.listen = "127.0.0.1:0", .database_url = db.app_url,
                      .trusted_proxies = "10.0.0.0/8,10.0.0.0/33"};
    assert_null(web_server_start(&bad, &err));
    assert_string_equal(err.code, "bad_trusted_proxy");
    assert_non_null(strstr(err.message, "10.0.0.0/33"));
}

#define RACERS 16

struct racer {
    pthread_barrier_t *go;
    const char *tok, *cookie;
    long status;
};

static void *race(void *v)
{
    struct racer *r = v;
    client c = {.xff = "198.51.100.200"};
    snprintf(c.cookie, sizeof c.cookie, "%s", r->cookie);
    char form[400];
    snprintf(form, sizeof form, "csrf=%s&email=view@a.example&password=wrong-guess", r->tok);
    pthread_barrier_wait(r->go);
    resp x = http(&c, "POST", "/login", form);
    r->status = x.status;
    done(&x);
    return NULL;
}

static void concurrent_logins_are_throttled(void **state)
{
    (void)state;
    /* one login form, replayed by RACERS parallel clients */
    client c = {.xff = "198.51.100.200"};
    char tok[128];
    login_form(&c, tok, sizeof tok);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    pthread_t th[RACERS];
    struct racer rs[RACERS];
    for (int i = 0; i < RACERS; i++) {
        rs[i] = (struct racer){.go = &go, .tok = tok, .cookie = c.cookie};
        pthread_create(&th[i], NULL, race, &rs[i]);
    }
    int checked = 0, refused = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
        checked += rs[i].status == 401;
        refused += rs[i].status == 429;
    }
    pthread_barrier_destroy(&go);
    printf("concurrent wrong passwords: %d checked (401), %d refused (429)\n", checked, refused);
    /* no more than the account's allowance got a password check */
    assert_int_equal(checked + refused, RACERS);
    assert_true(checked >= 1);
    assert_true(checked <= WF_LOGIN_MAX_PER_ACCOUNT);
    /* and each 401 was one password check, audited; a 429 checked nothing */
    char want[16];
    snprintf(want, sizeof want, "%d", checked);
    assert_string_equal(count("SELECT count(*) FROM audit_events WHERE action ="
                              " 'user.login_failed' AND actor_label = '%s'",
                              "view@a.example"),
                        want);
    /* the owner is slowed down, not locked out: after the wait the right
     * password works, even with the account under attack */
    int wait = 0;
    client owner = {.xff = "198.51.100.201"};
    long st = try_login(&owner, "view@a.example", PASSWORD, &wait);
    if (st == 429) {
        assert_true(wait >= 1 && wait <= 2);
        sleep((unsigned)wait);
        st = try_login(&owner, "view@a.example", PASSWORD, NULL);
    }
    assert_int_equal(st, 303);
    assert_string_equal(count("SELECT count(*) FROM login_throttle WHERE key = '%s'",
                              "account:view@a.example"),
                        "0");
}

static void backoff_doubles_and_success_resets(void **state)
{
    (void)state;
    client c = {.xff = "198.51.100.210"};
    int wait = 0;
    for (int i = 0; i < WF_LOGIN_MAX_PER_ACCOUNT; i++)
        assert_int_equal(try_login(&c, "eng@a.example", "wrong-guess", NULL), 401);
    /* from another address too: the account is what backs off */
    client other = {.xff = "198.51.100.211"};
    assert_int_equal(try_login(&other, "eng@a.example", PASSWORD, &wait), 429);
    assert_true(wait == 1);
    sleep(1);
    assert_int_equal(try_login(&c, "eng@a.example", "wrong-guess", NULL), 401);
    assert_int_equal(try_login(&c, "eng@a.example", "wrong-guess", &wait), 429);
    assert_true(wait >= 1 && wait <= 2); /* doubled: 2 s */
    assert_string_equal(count("SELECT round(extract(epoch FROM blocked_until - since))"
                              " FROM login_throttle WHERE key = '%s'",
                              "account:eng@a.example"),
                        "2");
    sleep((unsigned)wait);
    assert_int_equal(try_login(&other, "eng@a.example", PASSWORD, NULL), 303);
    /* a success forgets the failures: one wrong password is just wrong */
    assert_int_equal(try_login(&c, "eng@a.example", "wrong-guess", NULL), 401);
    assert_int_equal(try_login(&c, "eng@a.example", PASSWORD, NULL), 303);
    /* the cap: 15 minutes at most */
    pgt_sql(&db, "INSERT INTO login_throttle (key, failures) VALUES ('account:eng@a.example', 40)"
                 " ON CONFLICT (key) DO UPDATE SET failures = 40, blocked_until = NULL");
    assert_int_equal(try_login(&c, "eng@a.example", "wrong-guess", NULL), 401);
    assert_int_equal(try_login(&c, "eng@a.example", PASSWORD, &wait), 429);
    assert_true(wait > 880 && wait <= WF_LOGIN_BACKOFF_CAP_SECONDS);
    pgt_sql(&db, "DELETE FROM login_throttle");
}

static void password_change_ends_other_sessions(void **state)
{
    (void)state;
    const char *who = "admin@a.example";
    client me = login_from(who, PASSWORD, "192.0.2.10");
    client laptop = login_from(who, PASSWORD, "192.0.2.11");
    client phone = login_from(who, PASSWORD, "192.0.2.12");
    char form[600];
    /* CSRF */
    resp r = http(&me, "POST", "/account/password",
                  "current_password=" PASSWORD "&new_password=a-new-secret-42"
                  "&confirm_password=a-new-secret-42");
    assert_int_equal(r.status, 403);
    done(&r);
    /* wrong current password, differing or short new ones: nothing changes */
    struct {
        const char *cur, *n1, *n2;
        long status;
        const char *says;
    } bad[] = {
        {"not-my-password", "a-new-secret-42", "a-new-secret-42", 401, "current password is wrong"},
        {PASSWORD, "a-new-secret-42", "a-new-secret-43", 422, "differ"},
        {PASSWORD, "short", "short", 422, "10 to 1024"},
        {"", "a-new-secret-42", "a-new-secret-42", 422, "current password"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(form, sizeof form,
                 "csrf=%s&current_password=%s&new_password=%s&confirm_password=%s", me.csrf,
                 bad[i].cur, bad[i].n1, bad[i].n2);
        r = http(&me, "POST", "/account/password", form);
        if (r.status != bad[i].status || strstr(r.body, bad[i].says) == NULL)
            fail_msg("case %zu: %ld %s", i, r.status, r.body);
        done(&r);
    }
    /* a field the form does not have is refused, not ignored */
    snprintf(form, sizeof form,
             "csrf=%s&current_password=%s&new_password=a-new-secret-42"
             "&confirm_password=a-new-secret-42&new_passwd=a-typo-secret-42",
             me.csrf, PASSWORD);
    r = http(&me, "POST", "/account/password", form);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "new_passwd"));
    done(&r);
    r = http(&laptop, "GET", "/account", NULL);
    assert_int_equal(r.status, 200);
    done(&r);
    snprintf(form, sizeof form,
             "csrf=%s&current_password=%s&new_password=a-new-secret-42"
             "&confirm_password=a-new-secret-42",
             me.csrf, PASSWORD);
    r = http(&me, "POST", "/account/password", form);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "2 other sessions were ended"));
    done(&r);
    /* this browser stays in; the others are out */
    r = http(&me, "GET", "/account", NULL);
    assert_int_equal(r.status, 200);
    done(&r);
    r = http(&laptop, "GET", "/account", NULL);
    assert_int_equal(r.status, 303);
    done(&r);
    r = http(&phone, "GET", "/", NULL);
    assert_int_equal(r.status, 303);
    done(&r);
    client x = {.xff = "192.0.2.13"};
    assert_int_equal(try_login(&x, who, PASSWORD, NULL), 401);
    assert_int_equal(try_login(&x, who, "a-new-secret-42", NULL), 303);
    assert_string_equal(count("SELECT count(*) FROM audit_events WHERE action ="
                              " 'user.password_changed' AND after->>'sessions_ended' = '%s'",
                              "2"),
                        "1");
    /* no password in the audit trail */
    assert_string_equal(count("SELECT count(*) FROM audit_events WHERE audit_events::text"
                              " LIKE '%%%s%%'",
                              "secret-42"),
                        "0");
    /* put it back for the other tests */
    wf_actor op = wf_actor_cli();
    pf_err err;
    assert_int_equal(wf_user_set_password(&db.env, &op, who, PASSWORD, &err), PF_OK);
    pgt_sql(&db, "DELETE FROM login_throttle");
}

static void disabled_users_cannot_log_in_or_use_tokens(void **state)
{
    (void)state;
    const char *who = "admin@b.example";
    client web = login_from(who, PASSWORD, "192.0.2.20");
    client api = {0};
    wf_actor op = wf_actor_cli();
    pf_err err;
    assert_int_equal(wf_api_token_create(&db.env, &op, who, "noc", api.bearer, &err), PF_OK);
    resp r = http(&api, "GET", "/api/v1/me", NULL);
    assert_int_equal(r.status, 200);
    done(&r);

    assert_int_equal(wf_user_set_disabled(&db.env, &op, who, true, &err), PF_OK);
    assert_string_equal(count("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id"
                              " WHERE u.email = '%s'",
                              who),
                        "0");
    r = http(&web, "GET", "/", NULL);
    assert_int_equal(r.status, 303);
    done(&r);
    r = http(&api, "GET", "/api/v1/me", NULL);
    assert_int_equal(r.status, 401);
    done(&r);
    client again = {.xff = "192.0.2.21"};
    assert_int_equal(try_login(&again, who, PASSWORD, NULL), 401);
    /* disabling twice is fine; a non-operator may not */
    assert_int_equal(wf_user_set_disabled(&db.env, &op, who, true, &err), PF_OK);
    wf_actor admin = pgt_actor(&db, "admin@a.example");
    assert_int_equal(wf_user_set_disabled(&db.env, &admin, who, false, &err), PF_EFORBIDDEN);
    assert_int_equal(wf_user_set_disabled(&db.env, &op, "nobody@b.example", false, &err),
                     PF_ENOTFOUND);

    /* enabled again: the token works again (it was refused, not revoked) */
    assert_int_equal(wf_user_set_disabled(&db.env, &op, who, false, &err), PF_OK);
    r = http(&api, "GET", "/api/v1/me", NULL);
    assert_int_equal(r.status, 200);
    done(&r);
    pgt_sql(&db, "DELETE FROM login_throttle");
    assert_int_equal(try_login(&again, who, PASSWORD, NULL), 303);
    assert_string_equal(count("SELECT string_agg(action, ',' ORDER BY seq) FROM audit_events"
                              " WHERE action IN ('user.disabled', 'user.enabled')"
                              " AND object_type = '%s'",
                              "user"),
                        "user.disabled,user.disabled,user.enabled");
}

static void operator_sets_a_password_and_sessions_are_pruned(void **state)
{
    (void)state;
    const char *who = "admin@c.example";
    client web = login_from(who, PASSWORD, "192.0.2.30");
    wf_actor op = wf_actor_cli();
    pf_err err;
    assert_int_equal(wf_user_set_password(&db.env, &op, who, "short", &err), PF_EINVALID);
    assert_int_equal(wf_user_set_password(&db.env, &op, who, "operator-chosen-1", &err), PF_OK);
    resp r = http(&web, "GET", "/", NULL);
    assert_int_equal(r.status, 303);
    done(&r);
    client x = {.xff = "192.0.2.31"};
    assert_int_equal(try_login(&x, who, PASSWORD, NULL), 401);
    assert_int_equal(try_login(&x, who, "operator-chosen-1", NULL), 303);
    assert_int_equal(wf_user_set_password(&db.env, &op, who, PASSWORD, &err), PF_OK);

    /* pruning: expired sessions and stale throttle rows go, live ones stay */
    client live = login_from(who, PASSWORD, "192.0.2.32");
    (void)live;
    pgt_sql(&db, "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at)"
                 " SELECT decode(repeat('ab', 32), 'hex'), id, repeat('c', 40),"
                 " now() - interval '1 minute' FROM users WHERE email = 'view@a.example'");
    pgt_sql(&db, "INSERT INTO login_throttle (key, failures, since) VALUES"
                 " ('addr:192.0.2.99', 3, now() - interval '2 days'),"
                 " ('addr:192.0.2.98', 3, now())");
    long long before = pgt_count(&db, "sessions");
    int pruned = -1;
    assert_int_equal(wf_sessions_prune(&db.env, &pruned, &err), PF_OK);
    assert_int_equal(pruned, 1);
    assert_int_equal(pgt_count(&db, "sessions"), before - 1);
    assert_string_equal(pgt_sql(&db, "SELECT string_agg(key, ',') FROM login_throttle"
                                     " WHERE key LIKE 'addr:192.0.2.9%'"),
                        "addr:192.0.2.98");
    r = http(&live, "GET", "/account", NULL);
    assert_int_equal(r.status, 200);
    done(&r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(access_log_redacts_secrets),
        cmocka_unit_test(trusted_proxies_give_the_client_address),
        cmocka_unit_test(concurrent_logins_are_throttled),
        cmocka_unit_test(backoff_doubles_and_success_resets),
        cmocka_unit_test(password_change_ends_other_sessions),
        cmocka_unit_test(disabled_users_cannot_log_in_or_use_tokens),
        cmocka_unit_test(operator_sets_a_password_and_sessions_are_pruned),
    };
    int rc = cmocka_run_group_tests_name("accounts", tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
