/* HTTP integration tests: the real web server (in this process, on a free
 * port) against a real PostgreSQL, driven with libcurl as a browser and as
 * an API client would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "tests/support/pgtest.h"
#include "web/server.h"
#include <dirent.h>

#include "workflow/admin.h"
#include "workflow/keys.h"
#include "workflow/mailer.h"
#include "workflow/requests.h"

static pgt_db db;
static web_server *srv;
static char base[64];
static char key_dir[64] = "/tmp/pf-web-keys-XXXXXX";
static char mail_dir[64] = "/tmp/pf-web-mail-XXXXXX";

/* --------------------------------------------------------- http client */

typedef struct {
    long status;
    char *body;
    size_t len;
    char headers[8192];
} resp;

typedef struct {
    char cookie[512]; /* "pf_session=...; pf_login_csrf=..." */
    char csrf[128];   /* the session's form token */
    char bearer[128];
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
    strncat(r->headers, p, sizeof r->headers - strlen(r->headers) - 1);
    (void)sz;
    return sz * n;
}

/* Remembers Set-Cookie values in the client's cookie line. */
static void keep_cookies(client *c, const resp *r)
{
    const char *p = r->headers;
    while ((p = strcasestr(p, "Set-Cookie: ")) != NULL) {
        p += 12;
        const char *eq = strchr(p, '='), *semi = strchr(p, ';');
        if (!eq || !semi)
            break;
        char name[64], value[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - p), p);
        snprintf(value, sizeof value, "%.*s", (int)(semi - eq - 1), eq + 1);
        /* rebuild the cookie line without the old value of name */
        char line[512] = "", *save = NULL, copy[512];
        snprintf(copy, sizeof copy, "%s", c->cookie);
        for (char *t = strtok_r(copy, "; ", &save); t; t = strtok_r(NULL, "; ", &save))
            if (strncmp(t, name, strlen(name)) != 0 || t[strlen(name)] != '=')
                snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", *line ? "; " : "", t);
        if (*value)
            snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s=%s", *line ? "; " : "",
                     name, value);
        snprintf(c->cookie, sizeof c->cookie, "%s", line);
    }
}

static resp http(client *c, const char *method, const char *path, const char *type,
                 const char *body)
{
    resp r = {0};
    CURL *h = curl_easy_init();
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    struct curl_slist *hd = NULL;
    char line[600];
    if (c && c->cookie[0])
        curl_easy_setopt(h, CURLOPT_COOKIE, c->cookie);
    if (c && c->bearer[0]) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", c->bearer);
        hd = curl_slist_append(hd, line);
    }
    if (body) {
        snprintf(line, sizeof line, "Content-Type: %s", type);
        hd = curl_slist_append(hd, line);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    if (r.body == NULL)
        r.body = calloc(1, 1);
    if (c)
        keep_cookies(c, &r);
    return r;
}

static resp get(client *c, const char *path)
{
    return http(c, "GET", path, NULL, NULL);
}

static resp post_form(client *c, const char *path, const char *form)
{
    return http(c, "POST", path, "application/x-www-form-urlencoded", form);
}

static resp post_json(client *c, const char *path, const char *json)
{
    return http(c, "POST", path, "application/json", json);
}

static void done(resp *r)
{
    free(r->body);
}

/* The value of the first hidden input named csrf in an HTML body. */
static void find_csrf(const char *html, char *out, size_t n)
{
    const char *p = strstr(html, "name=\"csrf\" value=\"");
    out[0] = '\0';
    if (p) {
        p += 19;
        const char *e = strchr(p, '"');
        snprintf(out, n, "%.*s", (int)(e - p), p);
    }
}

static client login(const char *email)
{
    client c = {0};
    resp r = get(&c, "/login");
    char tok[128];
    find_csrf(r.body, tok, sizeof tok);
    done(&r);
    char form[512];
    snprintf(form, sizeof form, "csrf=%s&email=%s&password=correct-horse-battery", tok, email);
    r = post_form(&c, "/login", form);
    if (r.status != 303)
        fail_msg("login %s: %ld %s", email, r.status, r.body);
    done(&r);
    r = get(&c, "/");
    find_csrf(r.body, c.csrf, sizeof c.csrf);
    assert_int_equal(r.status, 200);
    done(&r);
    return c;
}

static client api_client(const char *email)
{
    client c = {0};
    wf_actor op = wf_actor_cli();
    pf_err err;
    char token[WF_API_TOKEN_LEN];
    assert_int_equal(wf_api_token_create(&db.env, &op, email, "test", token, &err), PF_OK);
    snprintf(c.bearer, sizeof c.bearer, "%s", token);
    return c;
}

static const char *fingerprint(void)
{
    return pgt_sql(&db, "SELECT (SELECT count(*) FROM peering_requests) || '/' ||"
                        " (SELECT sum(version) FROM peering_requests) || '/' ||"
                        " (SELECT count(*) FROM approvals) || '/' || (SELECT count(*) FROM outbox)"
                        " || '/' || (SELECT count(*) FROM jobs) || '/' ||"
                        " (SELECT count(*) FROM audit_events WHERE action LIKE 'request.%')");
}

static long long submit_as(const char *email, const char *port, int vlan, long long peer)
{
    wf_actor a = pgt_actor(&db, email);
    wf_submit_input in = {.port = port, .vlan = vlan, .peer_asn = peer};
    long long id = 0;
    pf_err err;
    if (wf_request_submit(&db.env, &a, &in, &id, &err) != PF_OK)
        fail_msg("submit: %s", err.message);
    return id;
}

/* ------------------------------------------------------------ set-up */

static int setup(void **state)
{
    (void)state;
    pgt_create(&db, "web", false);
    pgt_seed_world(&db);
    char hash[128];
    pf_err err;
    assert_int_equal(wf_password_hash("correct-horse-battery", hash, &err), PF_OK);
    char sql[400];
    snprintf(sql, sizeof sql, "UPDATE users SET password_hash = '%s'", hash);
    pgt_sql(&db, sql);
    assert_non_null(mkdtemp(key_dir));
    assert_non_null(mkdtemp(mail_dir));
    web_config cfg = {.listen = "127.0.0.1:0",
                      .key_dir = key_dir,
                      .database_url = db.web_url,
                      .base_url = "http://peerflow.test",
                      .threads = 2,
                      .timeout_seconds = 2};
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
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", key_dir, mail_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s, %s\n", key_dir, mail_dir);
    pgt_drop(&db);
    return 0;
}

/* ------------------------------------------------------------- tests */

static void health_metrics_and_headers(void **state)
{
    (void)state;
    resp r = get(NULL, "/healthz");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "database: ok\n");
    assert_non_null(strcasestr(r.headers, "Content-Security-Policy: default-src 'self'"));
    assert_non_null(strcasestr(r.headers, "frame-ancestors 'none'"));
    assert_non_null(strcasestr(r.headers, "X-Content-Type-Options: nosniff"));
    assert_non_null(strcasestr(r.headers, "Referrer-Policy:"));
    done(&r);
    r = get(NULL, "/nowhere");
    assert_int_equal(r.status, 404);
    done(&r);
    r = http(NULL, "DELETE", "/login", NULL, NULL);
    assert_int_equal(r.status, 405);
    done(&r);
    /* the exchange's figures are its operators': no token, or a network's
     * token, gets nothing */
    r = get(NULL, "/metrics");
    assert_int_equal(r.status, 401);
    assert_null(strstr(r.body, "peerflow_requests"));
    done(&r);
    client member = api_client("admin@a.example");
    r = get(&member, "/metrics");
    assert_int_equal(r.status, 403);
    assert_null(strstr(r.body, "peerflow_requests"));
    done(&r);
    client op = api_client("op@ix.example");
    r = get(&op, "/metrics");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "peerflow_http_requests_total{route=\"healthz\",status=\"200\"}"));
    assert_non_null(strstr(r.body, "peerflow_http_request_duration_seconds_bucket{route=\"healthz\""));
    assert_non_null(strstr(r.body, "peerflow_requests{state=\"pending\"}"));
    assert_non_null(strstr(r.body, "peerflow_outbox_pending"));
    assert_non_null(strstr(r.body, "peerflow_jobs_pending"));
    done(&r);
    r = get(NULL, "/static/style.css");
    assert_int_equal(r.status, 200);
    done(&r);
    r = get(NULL, "/static/..%2Fserver.c");
    assert_int_equal(r.status, 404);
    done(&r);
}

static void pages_need_login_and_sessions_end(void **state)
{
    (void)state;
    resp r = get(NULL, "/");
    assert_int_equal(r.status, 303);
    assert_non_null(strcasestr(r.headers, "Location: /login"));
    done(&r);
    r = post_form(NULL, "/requests", "port=a1&peer_asn=64501");
    assert_int_equal(r.status, 401);
    done(&r);

    client c = login("admin@a.example");
    assert_non_null(strstr(c.cookie, "pf_session="));
    /* the flags of the session cookie itself, as the login answer sets it
     * (not the login form's CSRF cookie, which has the same flags) */
    {
        client l = {0};
        r = get(&l, "/login");
        char tok[128], form[300];
        find_csrf(r.body, tok, sizeof tok);
        done(&r);
        snprintf(form, sizeof form, "csrf=%s&email=admin@a.example&password=correct-horse-battery",
                 tok);
        r = post_form(&l, "/login", form);
        assert_int_equal(r.status, 303);
        const char *sc = strcasestr(r.headers, "Set-Cookie: pf_session=");
        assert_non_null(sc);
        char line[400];
        snprintf(line, sizeof line, "%.*s", (int)strcspn(sc, "\r\n"), sc);
        assert_non_null(strstr(line, "; HttpOnly"));
        assert_non_null(strstr(line, "; SameSite=Strict"));
        assert_non_null(strstr(line, "; Path=/"));
        const char *age = strstr(line, "Max-Age=");
        assert_non_null(age);
        assert_int_equal(atoi(age + 8), 12 * 3600);
        assert_null(strstr(line, "Secure")); /* the base URL is http: */
        assert_true(strlen(strchr(line, '=') + 1) > 40); /* a value, not a deletion */
        done(&r);
    }
    /* logged out: the old cookie is refused */
    client old = c;
    char form[200];
    snprintf(form, sizeof form, "csrf=%s", c.csrf);
    r = post_form(&c, "/logout", form);
    assert_int_equal(r.status, 303);
    done(&r);
    r = get(&old, "/requests");
    assert_int_equal(r.status, 303);
    done(&r);
    /* expired */
    client e = login("admin@a.example");
    pgt_sql(&db, "UPDATE sessions SET expires_at = now() - interval '1 second'");
    r = get(&e, "/");
    assert_int_equal(r.status, 303);
    done(&r);
    /* the database keeps hashes only: the row is found by BLAKE2b-256 of
     * the cookie value, and nothing holds the value itself */
    const char *cookie = strstr(e.cookie, "pf_session=") + 11;
    char value[128];
    snprintf(value, sizeof value, "%.*s", (int)strcspn(cookie, "; "), cookie);
    assert_true(strlen(value) >= 43);
    unsigned char h[32];
    char hex[65];
    crypto_generichash(h, sizeof h, (const unsigned char *)value, strlen(value), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sessions WHERE id_hash = decode('%s', 'hex')",
             hex);
    assert_string_equal(pgt_sql(&db, sql), "1");
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM sessions WHERE encode(id_hash, 'escape') LIKE '%%%.20s%%'"
             " OR encode(id_hash, 'base64') LIKE '%%%.20s%%' OR csrf_token = '%s'"
             " OR position('%s' IN sessions::text) > 0",
             value, value, value, value);
    assert_string_equal(pgt_sql(&db, sql), "0");
}

static void login_errors_and_throttling(void **state)
{
    (void)state;
    client c = {0};
    resp r = get(&c, "/login");
    char tok[128];
    find_csrf(r.body, tok, sizeof tok);
    done(&r);
    /* no or wrong CSRF on the login form */
    r = post_form(NULL, "/login", "email=admin@b.example&password=correct-horse-battery");
    assert_int_equal(r.status, 403);
    done(&r);
    char form[400];
    for (int i = 0; i < 5; i++) {
        snprintf(form, sizeof form, "csrf=%s&email=admin@b.example&password=wrong-%d", tok, i);
        r = post_form(&c, "/login", form);
        assert_int_equal(r.status, 401);
        assert_non_null(strstr(r.body, "wrong email or password"));
        assert_non_null(strstr(r.body, "value=\"admin@b.example\""));
        find_csrf(r.body, tok, sizeof tok);
        done(&r);
    }
    snprintf(form, sizeof form, "csrf=%s&email=admin@b.example&password=correct-horse-battery", tok);
    r = post_form(&c, "/login", form);
    assert_int_equal(r.status, 429);
    assert_non_null(strstr(r.body, "too many failed logins"));
    find_csrf(r.body, tok, sizeof tok);
    done(&r);
    /* an unknown account answers like a wrong password */
    snprintf(form, sizeof form, "csrf=%s&email=nobody@x.example&password=whatever-it-is", tok);
    r = post_form(&c, "/login", form);
    assert_int_equal(r.status, 401);
    done(&r);
    pgt_sql(&db, "DELETE FROM login_throttle");
    assert_true(atoi(pgt_sql(&db, "SELECT count(*) FROM audit_events WHERE action = 'user.login_failed'")) >= 5);
}

static void pages_for_each_role(void **state)
{
    (void)state;
    long long id = submit_as("eng@a.example", "a-trunk", 10, 64501);
    char path[64];
    snprintf(path, sizeof path, "/requests/%lld", id);
    const char *users[] = {"admin@a.example", "eng@a.example", "view@a.example", "admin@b.example",
                           "op@ix.example"};
    const char *pages[] = {"/", "/requests", "/requests?state=pending", "/networks", "/reports",
                           "/reports/open_requests", "/reports/approvals.csv", "/account", path};
    for (size_t u = 0; u < sizeof users / sizeof users[0]; u++) {
        client c = login(users[u]);
        for (size_t p = 0; p < sizeof pages / sizeof pages[0]; p++) {
            resp r = get(&c, pages[p]);
            if (r.status != 200)
                fail_msg("%s GET %s: %ld", users[u], pages[p], r.status);
            assert_non_null(strcasestr(r.headers, "Cache-Control: no-store"));
            done(&r);
        }
        resp r = get(&c, "/requests/new");
        bool submitter = strncmp(users[u], "admin@", 6) == 0 || strncmp(users[u], "eng@", 4) == 0;
        assert_int_equal(r.status, 200);
        if (submitter)
            assert_non_null(strstr(r.body, "name=\"peer_asn\""));
        done(&r);
        r = get(&c, "/fabric");
        assert_int_equal(r.status, strcmp(users[u], "op@ix.example") == 0 ? 200 : 403);
        done(&r);
    }
    /* the request page shows each role the buttons it may use */
    client a = login("admin@a.example"), v = login("view@a.example"), b = login("admin@b.example");
    resp r = get(&a, path);
    assert_non_null(strstr(r.body, "/approve\""));
    assert_non_null(strstr(r.body, "/cancel\""));
    assert_non_null(strstr(r.body, "request.submitted"));
    done(&r);
    r = get(&v, path);
    assert_null(strstr(r.body, "/approve\""));
    assert_null(strstr(r.body, "/cancel\""));
    done(&r);
    r = get(&b, path);
    assert_non_null(strstr(r.body, "/approve\""));
    assert_null(strstr(r.body, "/cancel\""));
    done(&r);
    /* a CSV download */
    r = get(&a, "/reports/approvals.csv");
    assert_non_null(strcasestr(r.headers, "Content-Type: text/csv"));
    assert_non_null(strcasestr(r.headers, "attachment; filename=\"approvals.csv\""));
    assert_true(strncmp(r.body, "request_id,side,asn", 19) == 0);
    done(&r);
}

static void other_networks_get_404(void **state)
{
    (void)state;
    long long id = submit_as("admin@a.example", "a-trunk", 11, 64501);
    char path[64], api[80];
    snprintf(path, sizeof path, "/requests/%lld", id);
    snprintf(api, sizeof api, "/api/v1/requests/%lld", id);
    client c = login("admin@c.example");
    resp r = get(&c, path);
    assert_int_equal(r.status, 404);
    done(&r);
    client capi = api_client("admin@c.example");
    r = get(&capi, api);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "\"code\":\"unknown_request\""));
    done(&r);
    char form[200];
    snprintf(form, sizeof form, "csrf=%s", c.csrf);
    char act[96];
    snprintf(act, sizeof act, "%s/approve", path);
    r = post_form(&c, act, form);
    assert_int_equal(r.status, 404);
    done(&r);
    r = get(&capi, "/api/v1/requests");
    assert_null(strstr(r.body, "\"asn\":64500"));
    done(&r);
}

static void forms_need_csrf_and_roles(void **state)
{
    (void)state;
    client eng = login("eng@a.example"), view = login("view@a.example");
    char before[128];
    snprintf(before, sizeof before, "%s", fingerprint());
    resp r = post_form(&eng, "/requests", "port=a-trunk&vlan=20&peer_asn=64501");
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "reload the page"));
    done(&r);
    r = post_form(&eng, "/requests", "csrf=forged-token-of-the-right-length-xxxxxxxxxxxx&port=a-trunk&vlan=20&peer_asn=64501");
    assert_int_equal(r.status, 403);
    done(&r);
    char form[300];
    snprintf(form, sizeof form, "csrf=%s&port=a-trunk&vlan=20&peer_asn=64501", view.csrf);
    r = post_form(&view, "/requests", form);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "viewer may not submit"));
    done(&r);
    assert_string_equal(fingerprint(), before);

    /* an engineer submits, but cannot approve */
    snprintf(form, sizeof form, "csrf=%s&port=a-trunk&vlan=21&peer_asn=64501&message=hello", eng.csrf);
    r = post_form(&eng, "/requests", form);
    assert_int_equal(r.status, 303);
    const char *loc = strcasestr(r.headers, "Location: /requests/");
    assert_non_null(loc);
    long long id = atoll(loc + 20);
    done(&r);
    char act[96];
    snprintf(act, sizeof act, "/requests/%lld/approve", id);
    snprintf(form, sizeof form, "csrf=%s", eng.csrf);
    snprintf(before, sizeof before, "%s", fingerprint());
    r = post_form(&eng, act, form);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "ask an admin"));
    done(&r);
    assert_string_equal(fingerprint(), before);
}

static void form_errors_keep_values(void **state)
{
    (void)state;
    client a = login("admin@a.example");
    char before[128], form[400];
    snprintf(before, sizeof before, "%s", fingerprint());
    snprintf(form, sizeof form, "csrf=%s&port=a-trunk&vlan=5000&peer_asn=64501&message=keep+me", a.csrf);
    resp r = post_form(&a, "/requests", form);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "id=\"vlan-error\""));
    assert_non_null(strstr(r.body, "1..4094"));
    assert_non_null(strstr(r.body, "value=\"5000\""));
    assert_non_null(strstr(r.body, ">keep me</textarea>"));
    assert_non_null(strstr(r.body, "value=\"a-trunk\" selected"));
    done(&r);
    snprintf(form, sizeof form, "csrf=%s&port=a1&peer_asn=65009", a.csrf);
    r = post_form(&a, "/requests", form);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "id=\"peer_asn-error\""));
    done(&r);
    /* escaping: user text never becomes markup */
    snprintf(form, sizeof form, "csrf=%s&port=a1&peer_asn=%%3Cscript%%3E", a.csrf);
    r = post_form(&a, "/requests", form);
    assert_null(strstr(r.body, "<script>"));
    assert_non_null(strstr(r.body, "&lt;script&gt;"));
    done(&r);
    assert_string_equal(fingerprint(), before);
}

static void api_contract_and_bad_input(void **state)
{
    (void)state;
    client a = api_client("admin@a.example");
    char before[128];
    snprintf(before, sizeof before, "%s", fingerprint());
    struct {
        const char *body;
        long status;
        const char *code;
        const char *field;
    } bad[] = {
        {"{\"port\": \"a1\", \"peer_asn\": ", 400, "malformed_json", NULL},
        {"[1,2]", 400, "malformed_json", NULL},
        {"{\"port\": 5, \"peer_asn\": 64501}", 422, "wrong_type", "port"},
        {"{\"port\": \"a-trunk\", \"vlan\": \"ten\", \"peer_asn\": 64501}", 422, NULL, "vlan"},
        {"{\"port\": \"a-trunk\", \"vlan\": 30, \"peer_asn\": true}", 422, "wrong_type", "peer_asn"},
        {"{\"port\": \"a-trunk\", \"vlan\": 30}", 422, "missing", "peer_asn"},
        {"{\"vlan\": 30, \"peer_asn\": 64501}", 422, "missing", "port"},
        {"{\"port\": \"a1\", \"peer_asn\": 65010}", 422, "unknown_asn", "peer_asn"},
        {"{\"port\": \"b1\", \"peer_asn\": 64502}", 422, "unknown_port", "port"},
        {"{\"port\": \"a-trunk\", \"vlan\": 4095, \"peer_asn\": 64501}", 422, "vlan_out_of_range", "vlan"},
        {"{\"port\": \"a-trunk\", \"vlan\": 0, \"peer_asn\": 64501}", 422, "vlan_required", "vlan"},
        {"{\"port\": \"a1\", \"vlan\": 7, \"peer_asn\": 64501}", 422, "vlan_not_allowed", "vlan"},
        {"{\"port\": \"a1\", \"peer_asn\": 64500}", 422, "peer_is_self", "peer_asn"},
        {"{\"port\": \"a1\", \"peer_asn\": 23456}", 422, "bad_asn", "peer_asn"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        resp r = post_json(&a, "/api/v1/requests", bad[i].body);
        if (r.status != bad[i].status)
            fail_msg("%s: want %ld, got %ld %s", bad[i].body, bad[i].status, r.status, r.body);
        json_t *j = json_loads(r.body, 0, NULL);
        json_t *e = json_object_get(j, "error");
        assert_non_null(e);
        assert_non_null(json_string_value(json_object_get(e, "message")));
        if (bad[i].code)
            assert_string_equal(json_string_value(json_object_get(e, "code")), bad[i].code);
        if (bad[i].field)
            assert_string_equal(json_string_value(json_object_get(e, "field")), bad[i].field);
        json_decref(j);
        done(&r);
    }
    /* oversized field and oversized body */
    char *big = malloc(4000);
    memset(big, 'x', 3000);
    snprintf(big + 3000, 1000, "\", \"port\": \"a1\", \"peer_asn\": 64501}");
    char *doc = malloc(5000);
    snprintf(doc, 5000, "{\"message\": \"%s", big);
    resp r = post_json(&a, "/api/v1/requests", doc);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"field\":\"message\""));
    done(&r);
    free(big);
    free(doc);
    char *huge = malloc(200000);
    memset(huge, ' ', 199999);
    huge[0] = '{';
    huge[199998] = '}';
    huge[199999] = '\0';
    r = post_json(&a, "/api/v1/requests", huge);
    assert_int_equal(r.status, 413);
    done(&r);
    free(huge);
    /* no token, a bad token */
    client none = {0}, wrong = {0};
    snprintf(wrong.bearer, sizeof wrong.bearer, "pft_not-a-real-token");
    r = get(&none, "/api/v1/requests");
    assert_int_equal(r.status, 401);
    done(&r);
    r = get(&wrong, "/api/v1/requests");
    assert_int_equal(r.status, 401);
    done(&r);
    assert_string_equal(fingerprint(), before);

    /* the happy path: create, read, VLAN in use, stale version, approve */
    r = post_json(&a, "/api/v1/requests",
                  "{\"port\": \"a-trunk\", \"vlan\": 40, \"peer_asn\": 64501, \"message\": \"hi\"}");
    assert_int_equal(r.status, 201);
    json_t *j = json_loads(r.body, 0, NULL);
    long long id = json_integer_value(json_object_get(j, "id"));
    assert_string_equal(json_string_value(json_object_get(j, "state")), "pending");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "requester"), "vlan")), 40);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "peer"), "asn")), 64501);
    assert_true(json_is_array(json_object_get(j, "approvals")));
    assert_true(json_is_array(json_object_get(j, "history")));
    assert_true(json_is_null(json_object_get(j, "circuit")));
    int version = (int)json_integer_value(json_object_get(j, "version"));
    json_decref(j);
    done(&r);
    snprintf(before, sizeof before, "%s", fingerprint());
    r = post_json(&a, "/api/v1/requests", "{\"port\": \"a-trunk\", \"vlan\": 40, \"peer_asn\": 64502}");
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.body, "endpoint_in_use"));
    done(&r);
    client b = api_client("admin@b.example");
    char path[96], body[128];
    snprintf(path, sizeof path, "/api/v1/requests/%lld/approve", id);
    snprintf(body, sizeof body, "{\"version\": %d}", version + 5);
    r = post_json(&b, path, body);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.body, "stale_version"));
    done(&r);
    r = post_json(&b, path, "{\"version\": \"x\"}");
    assert_int_equal(r.status, 422);
    done(&r);
    r = post_json(&b, path, "{\"vlan\": 9999}");
    assert_int_equal(r.status, 422);
    done(&r);
    r = post_json(&b, path, "{\"port\": 5}");
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "\"field\":\"port\""));
    done(&r);
    r = post_json(&b, path, "{\"port\": \"no-such-port\"}");
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "unknown_port"));
    done(&r);
    assert_string_equal(fingerprint(), before);
    snprintf(body, sizeof body, "{\"version\": %d}", version);
    r = post_json(&b, path, body);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"state\":\"approved\""));
    done(&r);
    r = post_json(&b, path, body);
    assert_int_equal(r.status, 409);
    done(&r);
    snprintf(path, sizeof path, "/api/v1/requests/%lld/explode", id);
    r = post_json(&b, path, "{}");
    assert_int_equal(r.status, 404);
    done(&r);
    r = get(&b, "/api/v1/requests?state=approved");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"requests\":["));
    done(&r);
    r = get(&b, "/api/v1/requests?state=nonsense");
    assert_int_equal(r.status, 422);
    done(&r);
    r = get(&b, "/api/v1/networks");
    assert_int_equal(r.status, 200);
    done(&r);
    r = get(&b, "/api/v1/reports/open_requests");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"columns\""));
    done(&r);
    r = get(&b, "/api/v1/fabric");
    assert_int_equal(r.status, 403);
    done(&r);
    client op = api_client("op@ix.example");
    r = get(&op, "/api/v1/fabric");
    assert_int_equal(r.status, 200);
    done(&r);
}

static void tokens_from_the_account_page(void **state)
{
    (void)state;
    client a = login("admin@a.example");
    char form[200];
    snprintf(form, sizeof form, "csrf=%s&name=automation", a.csrf);
    resp r = post_form(&a, "/account/tokens", form);
    assert_int_equal(r.status, 201);
    const char *t = strstr(r.body, "<code>pft_");
    assert_non_null(t);
    client api = {0};
    snprintf(api.bearer, sizeof api.bearer, "%.47s", t + 6);
    done(&r);
    r = get(&api, "/api/v1/me");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "admin@a.example"));
    done(&r);
    long long id = atoll(pgt_sql(&db, "SELECT max(id) FROM api_tokens WHERE name = 'automation'"));
    char path[64];
    snprintf(path, sizeof path, "/account/tokens/%lld/revoke", id);
    /* the revoke form sends its csrf only (a name there is an unknown field) */
    snprintf(form, sizeof form, "csrf=%s", a.csrf);
    r = post_form(&a, path, form);
    assert_int_equal(r.status, 303);
    done(&r);
    r = get(&api, "/api/v1/me");
    assert_int_equal(r.status, 401);
    done(&r);
}

/* A client that sends half a request and stalls is cut off at the timeout
 * (2 s here); the others are answered meanwhile. */
static void slow_clients_do_not_block(void **state)
{
    (void)state;
    int port = web_server_port(srv);
    int socks[8];
    for (int i = 0; i < 8; i++) {
        socks[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        assert_int_equal(connect(socks[i], (struct sockaddr *)&sa, sizeof sa), 0);
        const char *partial = "POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{";
        assert_true(write(socks[i], partial, strlen(partial)) > 0);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 20; i++) {
        resp r = get(NULL, "/healthz");
        assert_int_equal(r.status, 200);
        done(&r);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs < 1.5); /* not waiting behind the stalled ones */
    sleep(4);
    for (int i = 0; i < 8; i++) {
        char buf[64];
        struct timeval tv = {.tv_sec = 2};
        setsockopt(socks[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t n = read(socks[i], buf, sizeof buf);
        assert_true(n <= 0); /* closed by the server */
        close(socks[i]);
    }
}

/* Delivers the outbox into mail_dir (file: mode) and returns the token of
 * the newest link mailed to contact (static buffer), or fails. */
static const char *mailed_token(const char *contact)
{
    static char token[400];
    wf_keyring *keys;
    pf_err err;
    assert_int_equal(wf_keyring_open(key_dir, &keys, &err), PF_OK);
    char url[100];
    snprintf(url, sizeof url, "file:%s", mail_dir);
    wf_mailer_config mc = {.smtp_url = url, .mail_from = "peerflow@peerflow.test", .keys = keys};
    int n;
    if (wf_mailer_run_once(&db.env, &mc, 0, &n, &err) != PF_OK)
        fail_msg("mailer: %s", err.message);
    wf_keyring_free(keys);
    token[0] = '\0';
    DIR *d = opendir(mail_dir);
    struct dirent *e;
    long best = -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[400];
        snprintf(path, sizeof path, "%s/%s", mail_dir, e->d_name);
        FILE *f = fopen(path, "r");
        char buf[16384];
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char to[200];
        snprintf(to, sizeof to, "To: %s", contact);
        const char *link = strstr(buf, "http://peerflow.test/t/");
        long id = atol(e->d_name);
        if (strstr(buf, to) && link && id > best) {
            best = id;
            size_t t = strspn(link + 23, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
            snprintf(token, sizeof token, "%.*s", (int)t, link + 23);
        }
    }
    closedir(d);
    if (token[0] == '\0')
        fail_msg("no approval link mailed to %s", contact);
    return token;
}

static void approval_links_over_http(void **state)
{
    (void)state;
    long long id = submit_as("admin@a.example", "a-trunk", 60, 64502);
    char path[512], tok[400];
    snprintf(tok, sizeof tok, "%s", mailed_token("peering@c.example"));
    snprintf(path, sizeof path, "/t/%s", tok);
    char st[128];
    snprintf(st, sizeof st, "SELECT state FROM peering_requests WHERE id = %lld", id);

    /* GET shows, changes nothing, never cached, no referrer */
    resp r = get(NULL, path);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "name=\"decision\" value=\"approve\""));
    assert_null(strstr(r.body, "checked"));
    assert_non_null(strcasestr(r.headers, "Cache-Control: no-store"));
    assert_non_null(strcasestr(r.headers, "Referrer-Policy: no-referrer"));
    done(&r);
    assert_string_equal(pgt_sql(&db, st), "pending");
    /* a scanner that submits the form without choosing changes nothing */
    r = post_form(NULL, path, "reason=");
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.body, "id=\"decide\""));
    done(&r);
    assert_string_equal(pgt_sql(&db, st), "pending");
    /* one character edited */
    char edited[512];
    snprintf(edited, sizeof edited, "%s", path);
    size_t mid = strlen(edited) - 10;
    edited[mid] = edited[mid] == 'A' ? 'B' : 'A';
    r = get(NULL, edited);
    assert_true(r.status == 403 || r.status == 400 || r.status == 404);
    assert_non_null(strstr(r.body, "This link cannot be used"));
    done(&r);
    r = post_form(NULL, edited, "decision=approve");
    assert_true(r.status >= 400);
    done(&r);
    assert_string_equal(pgt_sql(&db, st), "pending");
    /* the real decision */
    r = post_form(NULL, path, "decision=approve");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "approved the peering request"));
    done(&r);
    assert_string_equal(pgt_sql(&db, st), "approved");
    snprintf(st, sizeof st, "SELECT via || ' ' || contact FROM approvals WHERE request_id = %lld AND side = 'peer'", id);
    assert_string_equal(pgt_sql(&db, st), "email peering@c.example");
    /* where the link was used from is the operators' to see, not the
     * requesting network's (its history and its report say token.used) */
    char api_path[64];
    snprintf(api_path, sizeof api_path, "/api/v1/requests/%lld", id);
    client member = api_client("admin@a.example");
    r = get(&member, api_path);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"token.used\""));
    assert_null(strstr(r.body, "client_addr"));
    assert_null(strstr(r.body, "user_agent"));
    done(&r);
    snprintf(api_path, sizeof api_path, "/api/v1/reports/request_history?request=%lld", id);
    r = get(&member, api_path);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "token.used"));
    assert_null(strstr(r.body, "client_addr"));
    done(&r);
    client op = api_client("op@ix.example");
    snprintf(api_path, sizeof api_path, "/api/v1/requests/%lld", id);
    r = get(&op, api_path);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "client_addr"));
    assert_non_null(strstr(r.body, "user_agent"));
    done(&r);
    /* used once */
    r = get(NULL, path);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.body, "data-code=\"token_used\""));
    done(&r);
    r = post_form(NULL, path, "decision=reject");
    assert_int_equal(r.status, 409);
    done(&r);

    /* the link of a cancelled request */
    long long id2 = submit_as("admin@a.example", "a-trunk", 61, 64502);
    snprintf(tok, sizeof tok, "%s", mailed_token("peering@c.example"));
    snprintf(path, sizeof path, "/t/%s", tok);
    wf_actor a = pgt_actor(&db, "admin@a.example");
    pf_err err;
    wf_decision_input none = {0};
    assert_int_equal(wf_request_cancel(&db.env, &a, id2, &none, &err), PF_OK);
    r = get(NULL, path);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr(r.body, "data-code=\"token_request_closed\""));
    done(&r);
    r = post_form(NULL, path, "decision=approve");
    assert_int_equal(r.status, 409);
    done(&r);
    snprintf(st, sizeof st, "SELECT state FROM peering_requests WHERE id = %lld", id2);
    assert_string_equal(pgt_sql(&db, st), "cancelled");
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(health_metrics_and_headers),
        cmocka_unit_test(pages_need_login_and_sessions_end),
        cmocka_unit_test(login_errors_and_throttling),
        cmocka_unit_test(pages_for_each_role),
        cmocka_unit_test(other_networks_get_404),
        cmocka_unit_test(forms_need_csrf_and_roles),
        cmocka_unit_test(form_errors_keep_values),
        cmocka_unit_test(api_contract_and_bad_input),
        cmocka_unit_test(tokens_from_the_account_page),
        cmocka_unit_test(approval_links_over_http),
        cmocka_unit_test(slow_clients_do_not_block),
    };
    int rc = cmocka_run_group_tests_name("web", tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
