/* wf_papi: see peering_api.h. */
#include "workflow/peering_api.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/directory.h"
#include "db/peering_api.h"
#include "workflow/requests.h"
#include "workflow/validate.h"

#define KEY_FILE "peering-api-token.key"

/* ------------------------------------------------------------- status */

const char *wf_papi_status(const char *state)
{
    static const struct {
        const char *state, *status;
    } map[] = {
        {"pending", "pending"},          {"approved", "approved"},
        {"provisioning", "approved"},    {"active", "active"},
        {"failed", "down"},              {"decommissioning", "decommissioning"},
        {"decommissioned", "decommissioned"}, {"rejected", "rejected"},
        {"expired", "rejected"},         {"cancelled", "cancelled"},
    };
    for (size_t i = 0; state && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].state, state) == 0)
            return map[i].status;
    return "unknown";
}

static void add_status(json_t *s)
{
    const char *st = json_string_value(json_object_get(s, "peerflow_state"));
    json_object_set_new(s, "status", json_string(wf_papi_status(st)));
}

/* ---------------------------------------------------------- next_token */

/* The token is base64url(offset as 8 bytes big-endian || MAC), the MAC
 * over "binding|offset": the offset is readable, but any change to it, or
 * use with another query, fails the MAC. */
static void token_mac(const unsigned char key[32], const char *binding, long long offset,
                      unsigned char mac[crypto_auth_BYTES])
{
    char msg[512];
    int n = snprintf(msg, sizeof msg, "peerflow-papi-v1|%s|%lld", binding, offset);
    crypto_auth(mac, (const unsigned char *)msg, (unsigned long long)n, key);
}

void wf_papi_token_make(const unsigned char key[32], const char *binding, long long offset,
                        char token[WF_PAPI_TOKEN_MAX])
{
    unsigned char raw[8 + crypto_auth_BYTES];
    for (int i = 0; i < 8; i++)
        raw[i] = (unsigned char)((unsigned long long)offset >> (56 - 8 * i));
    token_mac(key, binding, offset, raw + 8);
    sodium_bin2base64(token, WF_PAPI_TOKEN_MAX, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool wf_papi_token_parse(const unsigned char key[32], const char *binding, const char *token,
                         long long *offset)
{
    unsigned char raw[8 + crypto_auth_BYTES], mac[crypto_auth_BYTES];
    size_t len = 0;
    if (token == NULL || strlen(token) >= WF_PAPI_TOKEN_MAX ||
        sodium_base642bin(raw, sizeof raw, token, strlen(token), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != sizeof raw)
        return false;
    unsigned long long v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | raw[i];
    if (v > (unsigned long long)1 << 40)
        return false;
    token_mac(key, binding, (long long)v, mac);
    if (sodium_memcmp(mac, raw + 8, sizeof mac) != 0)
        return false;
    *offset = (long long)v;
    return true;
}

/* The signing key: KEY_DIR/peering-api-token.key (64 hex digits, 0600,
 * made on first use) so that tokens outlive a restart and hold across
 * several servers; without a key directory a random key of this process
 * (its tokens end with it). */
static unsigned char process_key[32];
static pthread_once_t process_key_once = PTHREAD_ONCE_INIT;
static void process_key_make(void)
{
    crypto_auth_keygen(process_key);
}

static pf_kind key_unusable(pf_err *err, const char *dir, const char *what)
{
    return pf_fail(err, PF_EINTERNAL, "key_dir_unusable", "key_dir", "key directory %s: %s", dir,
                   what);
}

static pf_kind load_key(const char *dir, unsigned char key[32], pf_err *err)
{
    if (dir == NULL || dir[0] == '\0') {
        pthread_once(&process_key_once, process_key_make);
        memcpy(key, process_key, 32);
        return PF_OK;
    }
    char path[1024], hex[65];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, KEY_FILE) >= sizeof path)
        return key_unusable(err, dir, "path too long");
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return key_unusable(err, dir, strerror(errno));
        crypto_auth_keygen(key);
        sodium_bin2hex(hex, sizeof hex, key, 32);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            bool ok = write(fd, hex, 64) == 64 && write(fd, "\n", 1) == 1;
            close(fd);
            sodium_memzero(hex, sizeof hex);
            return ok ? PF_OK : key_unusable(err, dir, "cannot write " KEY_FILE);
        }
        if (errno != EEXIST) /* else another process made it first: read theirs */
            return key_unusable(err, dir, strerror(errno));
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return key_unusable(err, dir, strerror(errno));
    struct stat st;
    ssize_t n = fstat(fd, &st) == 0 ? read(fd, hex, 64) : -1;
    close(fd);
    if (n != 64)
        return key_unusable(err, dir, KEY_FILE " is not 64 hex digits");
    if (st.st_mode & 077)
        return key_unusable(err, dir, KEY_FILE " is readable by others: chmod 600 it");
    hex[64] = '\0';
    size_t bin = 0;
    bool ok = sodium_hex2bin(key, 32, hex, 64, NULL, &bin, NULL) == 0 && bin == 32;
    sodium_memzero(hex, sizeof hex);
    return ok ? PF_OK : key_unusable(err, dir, KEY_FILE " is not 64 hex digits");
}

/* ------------------------------------------------------------ queries */

static pf_kind not_found(pf_err *err)
{
    /* one answer for an unknown network, another network's session and
     * an unknown session: nothing to enumerate */
    return pf_fail(err, PF_ENOTFOUND, "not_found", NULL,
                   "no such session or network for your network on this exchange");
}

static pf_kind need_network(const wf_actor *who, pf_err *err)
{
    if (who->network_id == 0)
        return pf_fail(err, PF_EFORBIDDEN, "network_only", NULL,
                       "the Peering API speaks for a network: use an API token of a network's "
                       "user, not an operator's");
    return PF_OK;
}

struct list_ctx {
    const wf_actor *who;
    long long peer_asn;
    long long peer_id;
    long long offset;
    int limit;
    const char *uuid;
    long long request_id;
    json_t *json;
    db_network self;
};

/* Parses asn, max_results, next_token; binding gets what the token is
 * bound to (route, network, asn, location_type). */
static pf_kind read_query(const wf_papi_config *cfg, const wf_actor *who, const char *route,
                          const wf_papi_query *q, struct list_ctx *x, pf_err *err)
{
    if (q->asn == NULL || q->asn[0] == '\0')
        return pf_fail(err, PF_EINVALID, "missing", "asn",
                       "asn is required: the AS number of the network to peer with (?asn=64501)");
    if (wf_parse_asn(q->asn, "asn", &x->peer_asn, err))
        return err->kind;
    x->limit = WF_PAPI_MAX_RESULTS;
    if (q->max_results != NULL) {
        long long m;
        if (wf_parse_int(q->max_results, "max_results", 1, 1000000, &m, err))
            return err->kind;
        x->limit = m > WF_PAPI_MAX_RESULTS ? WF_PAPI_MAX_RESULTS : (int)m;
    }
    x->offset = 0;
    if (q->next_token != NULL) {
        unsigned char key[32];
        char binding[200];
        if (load_key(cfg->key_dir, key, err))
            return err->kind;
        snprintf(binding, sizeof binding, "%s|%lld|%lld|%s", route, who->network_id,
                 x->peer_asn, q->location_type ? q->location_type : "");
        bool ok = wf_papi_token_parse(key, binding, q->next_token, &x->offset);
        sodium_memzero(key, sizeof key);
        if (!ok)
            return pf_fail(err, PF_EINVALID, "bad_next_token", "next_token",
                           "next_token is not one this server gave for this query: start again "
                           "without it");
    }
    return PF_OK;
}

/* Adds "next_token" when there are more items than the page holds. */
static pf_kind page_out(const wf_papi_config *cfg, const wf_actor *who, const char *route,
                        const wf_papi_query *q, const struct list_ctx *x, json_t *items,
                        json_t **out, pf_err *err)
{
    bool more = json_array_size(items) > (size_t)x->limit;
    if (more)
        json_array_remove(items, (size_t)x->limit);
    *out = json_pack("{so}", "items", items);
    if (more) {
        unsigned char key[32];
        char binding[200], token[WF_PAPI_TOKEN_MAX];
        if (load_key(cfg->key_dir, key, err)) {
            json_decref(*out);
            *out = NULL;
            return err->kind;
        }
        snprintf(binding, sizeof binding, "%s|%lld|%lld|%s", route, who->network_id,
                 x->peer_asn, q->location_type ? q->location_type : "");
        wf_papi_token_make(key, binding, x->offset + x->limit, token);
        sodium_memzero(key, sizeof key);
        json_object_set_new(*out, "next_token", json_string(token));
    }
    return PF_OK;
}

static pf_kind peer_of(db_conn *c, struct list_ctx *x, pf_err *err)
{
    db_network peer;
    if (db_network_by_asn(c, x->peer_asn, &peer, err))
        return err->kind == PF_ENOTFOUND ? not_found(err) : err->kind;
    if (peer.id == x->who->network_id)
        return pf_fail(err, PF_EINVALID, "peer_is_self", "asn",
                       "AS%lld is your own network: name the network to peer with", peer.asn);
    x->peer_id = peer.id;
    return PF_OK;
}

static pf_kind locations_tx(db_conn *c, void *v, pf_err *err)
{
    struct list_ctx *x = v;
    json_decref(x->json);
    x->json = NULL;
    if (peer_of(c, x, err))
        return err->kind;
    return db_papi_free_ports(c, x->who->network_id, &x->json, err);
}

pf_kind wf_papi_locations(const wf_env *env, const wf_papi_config *cfg, const wf_actor *who,
                          const wf_papi_query *q, json_t **out, pf_err *err)
{
    *out = NULL;
    struct list_ctx x = {.who = who};
    if (need_network(who, err) || read_query(cfg, who, "locations", q, &x, err))
        return err->kind;
    const char *type = q->location_type;
    if (type != NULL && strcmp(type, "private") != 0 && strcmp(type, "public") != 0)
        return pf_fail(err, PF_EINVALID, "bad_location_type", "location_type",
                       "location_type is private or public, not '%.40s'", type);
    db_scope s = wf_actor_scope(who);
    if (db_run_read(env->db, &s, locations_tx, &x, err))
        return err->kind;
    json_t *all = json_array(), *p;
    size_t i;
    if (type == NULL || strcmp(type, "private") == 0) {
        json_array_foreach(x.json, i, p) {
            char id[100];
            snprintf(id, sizeof id, "pf:port:%s", json_string_value(json_object_get(p, "name")));
            json_array_append_new(all, json_pack("{ss,ss,sO,sO}", "id", id, "type", "private",
                                                 "name", json_object_get(p, "name"), "mode",
                                                 json_object_get(p, "mode")));
        }
    }
    json_decref(x.json);
    if (cfg->ix_id && cfg->ix_id[0] && (type == NULL || strcmp(type, "public") == 0)) {
        char id[100];
        snprintf(id, sizeof id, "pdb:ix:%s", cfg->ix_id);
        json_array_append_new(all, json_pack("{ss,ss}", "id", id, "type", "public"));
    }
    /* the page: [offset, offset + limit], one more to know there is more */
    json_t *items = json_array();
    for (size_t k = (size_t)x.offset; k < json_array_size(all) && k <= (size_t)(x.offset + x.limit);
         k++)
        json_array_append(items, json_array_get(all, k));
    json_decref(all);
    return page_out(cfg, who, "locations", q, &x, items, out, err);
}

static pf_kind sessions_tx(db_conn *c, void *v, pf_err *err)
{
    struct list_ctx *x = v;
    json_decref(x->json);
    x->json = NULL;
    if (peer_of(c, x, err))
        return err->kind;
    return db_papi_sessions(c, x->who->network_id, x->peer_id, x->offset, x->limit, &x->json,
                            err);
}

pf_kind wf_papi_sessions(const wf_env *env, const wf_papi_config *cfg, const wf_actor *who,
                         const wf_papi_query *q, json_t **out, pf_err *err)
{
    *out = NULL;
    struct list_ctx x = {.who = who};
    if (need_network(who, err) || read_query(cfg, who, "sessions", q, &x, err))
        return err->kind;
    db_scope s = wf_actor_scope(who);
    if (db_run_read(env->db, &s, sessions_tx, &x, err))
        return err->kind;
    size_t i;
    json_t *one;
    json_array_foreach(x.json, i, one)
        add_status(one);
    return page_out(cfg, who, "sessions", q, &x, x.json, out, err);
}

/* A canonical UUID: 8-4-4-4-12 hex digits. Checked here so that a
 * malformed id answers the same 404 as an unknown one. */
static bool uuid_ok(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char ch = s[i];
        bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
        if (dash ? ch != '-' : !hex)
            return false;
    }
    return true;
}

static pf_kind session_tx(db_conn *c, void *v, pf_err *err)
{
    struct list_ctx *x = v;
    json_decref(x->json);
    x->json = NULL;
    pf_kind k = db_papi_session(c, x->who->network_id, x->uuid, x->request_id, &x->json,
                                &x->request_id, err);
    return k == PF_ENOTFOUND ? not_found(err) : k;
}

static pf_kind session_read(const wf_env *env, const wf_actor *who, const char *uuid,
                            long long request_id, json_t **out, long long *rid, pf_err *err)
{
    *out = NULL;
    if (need_network(who, err))
        return err->kind;
    if (uuid != NULL && !uuid_ok(uuid))
        return not_found(err);
    struct list_ctx x = {.who = who, .uuid = uuid, .request_id = request_id};
    db_scope s = wf_actor_scope(who);
    if (db_run_read(env->db, &s, session_tx, &x, err))
        return err->kind;
    add_status(x.json);
    *out = x.json;
    if (rid)
        *rid = x.request_id;
    return PF_OK;
}

pf_kind wf_papi_session_get(const wf_env *env, const wf_actor *who, const char *id,
                            json_t **out, pf_err *err)
{
    return session_read(env, who, id, 0, out, NULL, err);
}

pf_kind wf_papi_session_delete(const wf_env *env, const wf_actor *who, const char *id,
                               json_t **out, pf_err *err)
{
    long long rid;
    json_t *s;
    if (session_read(env, who, id, 0, &s, &rid, err))
        return err->kind;
    const char *state = json_string_value(json_object_get(s, "peerflow_state"));
    bool requester = strcmp(json_string_value(json_object_get(s, "side")), "requester") == 0;
    wf_decision_input in = {.reason = "deleted through the Peering API"};
    pf_kind k;
    if (strcmp(state, "pending") == 0)
        k = requester ? wf_request_cancel(env, who, rid, &in, err)
                      : wf_request_reject(env, who, rid, &in, err);
    else
        k = wf_request_decommission(env, who, rid, &in, err);
    json_decref(s);
    if (k != PF_OK)
        return k;
    return session_read(env, who, NULL, rid, out, NULL, err);
}

/* ---------------------------------------------------------- POST sessions */

static const char *const session_fields[] = {
    "local_asn", "local_ip", "peer_asn", "peer_ip", "peer_type", "location", "session_secret",
    "md5", "local_bgp_role", "peer_bgp_role", "vlan", NULL};

/* Appends message to the errors of field name in errs. */
static void field_error(json_t *errs, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void field_error(json_t *errs, const char *name, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0) {
            json_array_append_new(json_object_get(e, "errors"), json_string(msg));
            return;
        }
    }
    json_array_append_new(errs, json_pack("{ss,s[s]}", "name", name, "errors", msg));
}

static int status_of(pf_kind k)
{
    switch (k) {
    case PF_EINVALID: return 422;
    case PF_EAUTH: return 401;
    case PF_EFORBIDDEN: return 403;
    case PF_ENOTFOUND: return 404;
    case PF_ECONFLICT: return 409;
    case PF_ELIMIT: return 429;
    case PF_EUNAVAIL: return 503;
    default: return 500;
    }
}

/* The field of the Peering API a submission error is about. */
static const char *papi_field(const char *field)
{
    if (field[0] == '\0')
        return "session";
    if (strcmp(field, "port") == 0)
        return "location";
    if (strcmp(field, "bgp_md5") == 0)
        return "md5";
    return field;
}

/* ASN of a JSON number or "AS64500" string into *asn; errors into errs. */
static void read_asn(const json_t *v, const char *name, json_t *errs, long long *asn)
{
    pf_err e = {0};
    *asn = 0;
    if (v == NULL || json_is_null(v)) {
        field_error(errs, name, "%s is required", name);
    } else if (json_is_integer(v)) {
        if (wf_check_asn(json_integer_value(v), name, &e) == PF_OK)
            *asn = json_integer_value(v);
        else
            field_error(errs, name, "%s", e.message);
    } else if (json_is_string(v)) {
        if (wf_parse_asn(json_string_value(v), name, asn, &e))
            field_error(errs, name, "%s", e.message);
    } else {
        field_error(errs, name, "%s must be an AS number", name);
    }
}

struct self_ctx {
    const wf_actor *who;
    db_network self;
    long long peer_id;
    long long peer_asn;
    const char *port;
    bool dup;
    char dup_id[37];
};

static pf_kind self_tx(db_conn *c, void *v, pf_err *err)
{
    struct self_ctx *x = v;
    return db_network_by_id(c, x->who->network_id, &x->self, err);
}

static pf_kind dup_tx(db_conn *c, void *v, pf_err *err)
{
    struct self_ctx *x = v;
    db_network peer;
    x->dup = false;
    pf_kind k = db_network_by_asn(c, x->peer_asn, &peer, err);
    if (k == PF_ENOTFOUND)
        return PF_OK; /* the submission names it */
    if (k)
        return k;
    return db_papi_live_duplicate(c, x->who->network_id, peer.id, x->port, &x->dup, x->dup_id,
                                  err);
}

/* One session: checks its fields, then submits it. Returns the accepted
 * session, or NULL with *refusal filled. */
static json_t *add_one(const wf_env *env, const wf_actor *who, const db_network *self,
                       const json_t *s, size_t index, json_t **refusal)
{
    json_t *errs = json_array();
    int status = 422;
    const char *key;
    json_t *v;
    *refusal = NULL;
    if (!json_is_object(s)) {
        field_error(errs, "session", "each session is a JSON object");
        goto refused;
    }
    json_object_foreach((json_t *)s, key, v) {
        bool known = false;
        for (int i = 0; session_fields[i] && !known; i++)
            known = strcmp(session_fields[i], key) == 0;
        if (!known)
            field_error(errs, key,
                        "'%.60s' is not a field of a session here: it takes local_asn, "
                        "peer_asn, location, peer_type, md5, vlan, local_bgp_role, "
                        "peer_bgp_role (nothing was changed)",
                        key);
    }
    long long local_asn, peer_asn;
    read_asn(json_object_get(s, "local_asn"), "local_asn", errs, &local_asn);
    if (local_asn && local_asn != self->asn)
        field_error(errs, "local_asn",
                    "local_asn is the caller's network: your token is of AS%lld, not AS%lld",
                    self->asn, local_asn);
    read_asn(json_object_get(s, "peer_asn"), "peer_asn", errs, &peer_asn);
    for (int i = 0; i < 2; i++) {
        const char *f = i ? "peer_ip" : "local_ip";
        json_t *ip = json_object_get(s, f);
        if (ip && !json_is_null(ip))
            field_error(errs, f,
                        "peerflow allocates the link addresses from the exchange's pools when "
                        "the session is approved: leave %s out and read it from the session",
                        f);
    }
    if (json_object_get(s, "session_secret") && !json_is_null(json_object_get(s, "session_secret")))
        field_error(errs, "session_secret",
                    "peerflow generates the TCP-MD5 secret and keeps it sealed: send \"md5\": "
                    "true instead, and read the secret from the request's page or API");
    json_t *md5 = json_object_get(s, "md5");
    if (md5 && !json_is_boolean(md5))
        field_error(errs, "md5", "md5 is true or false");
    for (int i = 0; i < 2; i++) {
        const char *f = i ? "peer_bgp_role" : "local_bgp_role";
        json_t *r = json_object_get(s, f);
        if (r && !json_is_null(r) &&
            !(json_is_string(r) && strcmp(json_string_value(r), "peer") == 0))
            field_error(errs, f,
                        "a private interconnect between two networks is a peering: %s can only "
                        "be \"peer\" (RFC 9234)",
                        f);
    }
    json_t *pt = json_object_get(s, "peer_type");
    if (pt && !json_is_null(pt)) {
        if (!json_is_string(pt) || (strcmp(json_string_value(pt), "private") != 0 &&
                                    strcmp(json_string_value(pt), "public") != 0))
            field_error(errs, "peer_type", "peer_type is private or public");
        else if (strcmp(json_string_value(pt), "public") == 0)
            field_error(errs, "peer_type",
                        "peerflow provisions private interconnects: public sessions on the "
                        "exchange's LAN are configured by the two networks themselves");
    }
    json_t *vl = json_object_get(s, "vlan");
    long long vlan = 0;
    if (vl && !json_is_null(vl)) {
        pf_err e = {0};
        if (!json_is_integer(vl))
            field_error(errs, "vlan", "vlan is a number 1..4094");
        else if (wf_check_vlan(json_integer_value(vl), "vlan", &e))
            field_error(errs, "vlan", "%s", e.message);
        else
            vlan = json_integer_value(vl);
    }
    json_t *loc = json_object_get(s, "location");
    if (json_is_object(loc))
        loc = json_object_get(loc, "id");
    const char *port = NULL;
    if (loc == NULL || json_is_null(loc)) {
        field_error(errs, "location",
                    "location is required: one of GET /locations, like \"pf:port:NAME\"");
    } else if (!json_is_string(loc)) {
        field_error(errs, "location", "location is a location id, like \"pf:port:NAME\"");
    } else if (strncmp(json_string_value(loc), "pf:port:", 8) == 0 &&
               json_string_value(loc)[8] != '\0') {
        port = json_string_value(loc) + 8;
    } else if (strncmp(json_string_value(loc), "pdb:ix:", 7) == 0) {
        field_error(errs, "location",
                    "%.60s is the exchange's public LAN: peerflow provisions private "
                    "interconnects only (a location \"pf:port:NAME\")",
                    json_string_value(loc));
    } else {
        field_error(errs, "location",
                    "'%.60s' is not a location here: use one of GET /locations "
                    "(\"pf:port:NAME\")",
                    json_string_value(loc));
    }
    if (json_array_size(errs) > 0)
        goto refused;

    /* a live session at the same place between the same two networks */
    struct self_ctx d = {.who = who, .peer_asn = peer_asn, .port = port};
    pf_err err = {0};
    db_scope sc = wf_actor_scope(who);
    if (db_run_read(env->db, &sc, dup_tx, &d, &err)) {
        status = status_of(err.kind);
        field_error(errs, papi_field(err.field), "%s", err.message);
        goto refused;
    }
    if (d.dup) {
        status = 409;
        field_error(errs, "location",
                    "a live session between AS%lld and AS%lld at %s exists already: %s",
                    self->asn, peer_asn, port, d.dup_id);
        goto refused;
    }
    wf_submit_input in = {.port = port, .vlan = (int)vlan, .peer_asn = peer_asn,
                          .bgp_md5 = json_is_true(md5),
                          .message = "filed through the Peering API"};
    long long id = 0;
    if (wf_request_submit(env, who, &in, &id, &err)) {
        status = status_of(err.kind);
        field_error(errs, papi_field(err.field), "%s", err.message);
        goto refused;
    }
    json_decref(errs);
    json_t *out = NULL;
    if (session_read(env, who, NULL, id, &out, NULL, &err)) {
        /* submitted, but not readable back: say so, with its number */
        *refusal = json_pack("{sI,si,s[{ss,s[s]}],sI}", "index", (json_int_t)index, "status",
                             status_of(err.kind), "errors", "name", "session", "errors",
                             err.message, "request_id", (json_int_t)id);
        return NULL;
    }
    return out;

refused:
    *refusal = json_pack("{sI,si,so}", "index", (json_int_t)index, "status", status, "errors",
                         errs);
    return NULL;
}

pf_kind wf_papi_sessions_add(const wf_env *env, const wf_actor *who, const json_t *list,
                             json_t **out, int *status, pf_err *err)
{
    *out = NULL;
    if (need_network(who, err))
        return err->kind;
    if (!json_is_array(list) || json_array_size(list) == 0)
        return pf_fail(err, PF_EINVALID, "wrong_type", "sessions",
                       "the body is a non-empty JSON list of sessions");
    if (json_array_size(list) > WF_PAPI_MAX_RESULTS)
        return pf_fail(err, PF_EINVALID, "too_many_sessions", "sessions",
                       "at most %d sessions per call", WF_PAPI_MAX_RESULTS);
    struct self_ctx x = {.who = who};
    db_scope sc = wf_actor_scope(who);
    if (db_run_read(env->db, &sc, self_tx, &x, err))
        return err->kind;
    json_t *ok = json_array(), *refused = json_array();
    size_t i;
    json_t *s;
    int common = 0;
    json_array_foreach(list, i, s) {
        json_t *r = NULL, *a = add_one(env, who, &x.self, s, i, &r);
        if (a) {
            json_array_append_new(ok, a);
        } else {
            int st = (int)json_integer_value(json_object_get(r, "status"));
            common = common == 0 || common == st ? st : 422;
            json_array_append_new(refused, r);
        }
    }
    *status = json_array_size(ok) > 0 ? 200 : common;
    *out = json_pack("{soso}", "sessions", ok, "refused", refused);
    return PF_OK;
}
