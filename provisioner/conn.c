/* prov_net: see conn.h. */
#include "provisioner/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "db/provision.h"
#include "provisioner/transport.h"
#include <stdarg.h>

/* snprintf for messages: truncating a long message is intended. */
static void msgf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void msgf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}


enum conn_state { C_CONNECTING, C_HELLO, C_FEATURES, C_UP };
enum op_kind { OP_BATCH, OP_DUMP, OP_MDUMP };

struct conn;

struct op {
    struct op *next;
    struct conn *conn; /* NULL once done */
    enum op_kind kind;
    uint32_t first_xid; /* first flow mod */
    size_t n_mods;
    uint32_t last_xid; /* barrier or flow stats request */
    bool has_open;      /* a bundle: open_xid is its OPEN_REQUEST */
    uint32_t open_xid;
    bool open_refused;  /* the switch answered the OPEN_REQUEST with an error */
    /* a streamed bundle (prov_net_stream_*): its mods were queued in
     * pieces, so other messages' xids may lie between theirs: the xid of
     * each mod, increasing (NULL: mod i has first_xid + i) */
    const uint32_t *mod_xids;
    bool done;
    prov_result *res;
    struct ofp_flow_entry *entries;
    size_t n_entries, cap_entries;
    struct ofp_meter *meters; /* OP_MDUMP of meter config */
    size_t n_meters;
    uint16_t mp_type; /* OP_MDUMP: OFPMP_METER_CONFIG or OFPMP_METER (stats) */
    struct ofp_meter_stats_entry *mstats; /* OP_MDUMP of meter stats */
    size_t n_mstats;
    bool oom;
};

struct sw {
    long long id;
    char name[64];
    uint64_t dpid;
    char endpoint[256];
    bool present;
    struct conn *conn;
    int64_t next_attempt;
    int backoff;
    bool ever_up;
    char error[300];
    char want_state[16], written_state[16];
    char want_error[300], written_error[300];
    char cert_sha256[65]; /* the pinned certificate, "" for none */
    bool written_once;
    bool notify_connect;
    int bundles; /* 0 not known yet, 1 a bundle committed, -1 refused */
    prov_net_stats stats;
    /* controller role (cfg.roles): what the mastership lease says this
     * process is, and until when it may write as master (monotonic ms) */
    uint32_t want_role; /* OFPCR_ROLE_MASTER, _SLAVE, or 0 not told yet */
    uint64_t want_gen;
    int64_t master_until;
    char role_error[300];
};

struct conn {
    struct conn *next;
    struct sw *sw; /* NULL for an accepted connection not yet identified */
    prov_tx *tx;   /* the byte stream: plain, unix or TLS (transport.h) */
    bool active;
    enum conn_state st;
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_off, out_len, out_cap;
    int64_t t_start, t_last_rx, t_last_echo;
    bool echo_pending;
    uint32_t next_xid;
    uint32_t next_bundle;
    unsigned long gen; /* tells this connection from a later one at the same address */
    struct op *ops;
    bool closing;
    char close_reason[300];
    /* the ROLE_REQUEST in flight (role_sent, gen_sent, role_xid) and the
     * role the switch confirmed with its ROLE_REPLY (0: none yet) */
    uint32_t role_sent, role;
    uint64_t gen_sent, role_gen;
    uint32_t role_xid;
};

struct prov_net {
    prov_net_config cfg;
    char *database_url, *listen, *only_switch;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int wake[2];
    bool stop;
    db_conn *db;
    struct sw **sw;
    size_t n_sw, cap_sw;
    struct conn *conns;
    int listen_fd;
    pthread_t db_thread;
    pthread_cond_t db_cv; /* wakes the recorder: a state changed, or stop */
    bool db_stop;
    struct ofp_flow_entry *scratch; /* decoding buffer of the I/O thread */
    unsigned long conn_gen;
    unsigned long tls_refused; /* handshakes failed on the TLS listener */
    prov_tx_tls *tls;  /* PEERFLOW_OPENFLOW_TLS_DIR, or NULL */
    bool listen_tls;   /* the listener is ssl: */
    struct refusal *refusals; /* to audit (the recorder writes them) */
    size_t n_refusals;
};

/* A connection refused for its certificate: audited by the recorder. */
struct refusal {
    long long switch_id;
    char dpid[17];
    char presented[65];
    char reason[300];
};

static void note_refusal(prov_net *n, struct sw *s, const char *presented, const char *reason)
{
    if (n->n_refusals >= 64)
        return; /* a flood of impostors is audited in part, never blocks */
    struct refusal *v = realloc(n->refusals, (n->n_refusals + 1) * sizeof *v);
    if (v == NULL)
        return;
    n->refusals = v;
    struct refusal *r = &v[n->n_refusals++];
    memset(r, 0, sizeof *r);
    r->switch_id = s->id;
    msgf(r->dpid, sizeof r->dpid, "%016llx", (unsigned long long)s->dpid);
    msgf(r->presented, sizeof r->presented, "%s", presented);
    msgf(r->reason, sizeof r->reason, "%s", reason);
    pthread_cond_signal(&n->db_cv);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(prov_net *n)
{
    char c = 1;
    ssize_t r = write(n->wake[1], &c, 1);
    (void)r;
}

static struct sw *sw_by_id(prov_net *n, long long id)
{
    for (size_t i = 0; i < n->n_sw; i++)
        if (n->sw[i]->id == id)
            return n->sw[i];
    return NULL;
}

static void set_want(struct sw *s, const char *state, const char *error)
{
    msgf(s->want_state, sizeof s->want_state, "%s", state);
    msgf(s->want_error, sizeof s->want_error, "%s", error ? error : "");
}

/* ------------------------------------------------------------- output */

static bool out_append(struct conn *c, const uint8_t *p, size_t len)
{
    if (c->out_off > 0 && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        uint8_t *b = realloc(c->out, cap);
        if (b == NULL)
            return false;
        c->out = b;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, len);
    c->out_len += len;
    return true;
}

/* ------------------------------------------------------- ops complete */

static void op_complete(prov_net *n, struct op *o, bool unreachable, const char *msg)
{
    if (o->done)
        return;
    o->done = true;
    o->conn = NULL;
    if (unreachable) {
        o->res->ok = false;
        o->res->unreachable = true;
        msgf(o->res->message, sizeof o->res->message, "%s", msg);
    } else if (o->res->n_errors == 0 && !o->oom) {
        o->res->ok = true;
    } else if (o->oom) {
        o->res->ok = false;
        msgf(o->res->message, sizeof o->res->message, "out of memory reading the reply");
    }
    pthread_cond_broadcast(&n->cv);
}

static void op_unlink(struct conn *c, struct op *o)
{
    for (struct op **p = &c->ops; *p; p = &(*p)->next)
        if (*p == o) {
            *p = o->next;
            return;
        }
}

/* ------------------------------------------------------ close, connect */

static void conn_close(prov_net *n, struct conn *c, const char *reason)
{
    prov_tx_close(c->tx);
    c->tx = NULL;
    char msg[400];
    msgf(msg, sizeof msg, "%s%s%s", c->sw ? "switch " : "", c->sw ? c->sw->name : "",
             c->sw ? ": " : "");
    msgf(msg + strlen(msg), sizeof msg - strlen(msg), "%s", reason);
    while (c->ops) {
        struct op *o = c->ops;
        c->ops = o->next;
        op_complete(n, o, true, msg);
    }
    struct sw *s = c->sw;
    if (s != NULL && s->conn == c) {
        s->conn = NULL;
        msgf(s->error, sizeof s->error, "%s", reason);
        if (c->st == C_UP)
            s->stats.disconnects++;
        set_want(s, "disconnected", reason);
        s->next_attempt = now_ms() + s->backoff;
        int max = n->cfg.backoff_max_ms;
        s->backoff = s->backoff * 2 > max ? max : s->backoff * 2;
    }
    for (struct conn **p = &n->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    free(c->in);
    free(c->out);
    free(c);
}

static void conn_send_hello(struct conn *c)
{
    uint8_t buf[64];
    size_t len;
    if (ofp_encode_hello(buf, sizeof buf, c->next_xid++, 1u << OFP13_VERSION, &len, NULL) ==
        OFP_OK)
        out_append(c, buf, len);
    c->st = C_HELLO;
}

static struct conn *conn_new(prov_net *n, prov_tx *tx, struct sw *s, bool active)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        prov_tx_close(tx);
        return NULL;
    }
    c->tx = tx;
    c->gen = ++n->conn_gen;
    c->sw = s;
    c->active = active;
    c->next_xid = 1;
    c->t_start = c->t_last_rx = now_ms();
    c->next = n->conns;
    n->conns = c;
    return c;
}

/* Starts a connection attempt to an endpoint switch. */
static void sw_connect(prov_net *n, struct sw *s)
{
    char reason[300] = "";
    prov_tx *tx = prov_tx_connect(s->endpoint, n->tls, reason, sizeof reason);
    if (tx == NULL) {
        msgf(s->error, sizeof s->error, "%s", reason);
        set_want(s, "disconnected", reason);
        s->next_attempt = now_ms() + s->backoff;
        s->backoff = s->backoff * 2 > n->cfg.backoff_max_ms ? n->cfg.backoff_max_ms
                                                              : s->backoff * 2;
        return;
    }
    if (!s->ever_up && strcmp(s->written_state, "disconnected") != 0)
        set_want(s, "connecting", NULL);
    struct conn *c = conn_new(n, tx, s, true);
    if (c == NULL)
        return;
    s->conn = c;
    /* connect (and a TLS handshake) completes in the I/O loop */
    c->st = C_CONNECTING;
}

/* ------------------------------------------------------------- roles */

/* Under the lock: asks the switch for the role the lease says, unless
 * that request is already sent on this connection. */
static void conn_send_role(prov_net *n, struct conn *c)
{
    struct sw *s = c->sw;
    if (!n->cfg.roles || s == NULL || c->st != C_UP || c->closing || s->want_role == 0)
        return;
    if (c->role_sent == s->want_role && c->gen_sent == s->want_gen)
        return;
    uint8_t buf[32];
    size_t len;
    struct ofp_role r = {s->want_role, s->want_gen};
    uint32_t xid = c->next_xid++;
    if (ofp_encode_role_request(buf, sizeof buf, xid, &r, &len, NULL) != OFP_OK ||
        !out_append(c, buf, len))
        return;
    c->role_sent = s->want_role;
    c->gen_sent = s->want_gen;
    c->role_xid = xid;
    if (s->want_role != OFPCR_ROLE_MASTER && c->role == OFPCR_ROLE_MASTER)
        c->role = 0; /* no write as master from the moment it is asked away */
    wake(n);
}

/* The switch answered the ROLE_REQUEST. */
static void handle_role_reply(prov_net *n, struct conn *c, const uint8_t *m, size_t len,
                              uint32_t xid)
{
    struct ofp_role r;
    if (c->sw == NULL || xid != c->role_xid || ofp_decode_role_reply(m, len, &r, NULL) != OFP_OK)
        return;
    bool became_master = r.role == OFPCR_ROLE_MASTER && c->role != OFPCR_ROLE_MASTER;
    c->role = r.role;
    c->role_gen = r.generation_id;
    c->sw->role_error[0] = '\0';
    if (became_master) {
        c->sw->stats.masterships++;
        c->sw->notify_connect = true; /* a new master reconciles the switch */
    }
    pthread_cond_broadcast(&n->cv);
}

/* ----------------------------------------------------- message handling */

static struct op *op_by_xid(struct conn *c, uint32_t xid)
{
    for (struct op *o = c->ops; o; o = o->next) {
        if (o->kind == OP_BATCH && ((xid >= o->first_xid && xid <= o->last_xid) ||
                                    (o->has_open && xid == o->open_xid)))
            return o;
        if ((o->kind == OP_DUMP || o->kind == OP_MDUMP) && xid == o->last_xid)
            return o;
    }
    return NULL;
}

/* The index of the flow mod of o that xid names, or -1. */
static long mod_index(const struct op *o, uint32_t xid)
{
    if (o->kind != OP_BATCH || xid < o->first_xid)
        return -1;
    if (o->mod_xids == NULL)
        return xid - o->first_xid < o->n_mods ? (long)(xid - o->first_xid) : -1;
    size_t lo = 0, hi = o->n_mods;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->mod_xids[mid] == xid)
            return (long)mid;
        if (o->mod_xids[mid] < xid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static void handle_error_msg(prov_net *n, struct conn *c, const uint8_t *m, size_t len,
                             uint32_t xid)
{
    struct ofp_error e;
    if (ofp_decode_error(m, len, &e, NULL) != OFP_OK)
        return;
    char text[160];
    ofp_format_error(&e, text, sizeof text);
    if (c->st != C_UP) {
        char r[300];
        msgf(r, sizeof r, "the switch refused the %s: %s",
                 c->st == C_HELLO ? "OpenFlow 1.3 hello" : "handshake", text);
        if (c->sw)
            c->sw->stats.refused++;
        c->closing = true;
        msgf(c->close_reason, sizeof c->close_reason, "%s", r);
        return;
    }
    bool is_slave = e.type == OFPET_BAD_REQUEST && e.code == OFPBRC_IS_SLAVE;
    bool role_refused = n->cfg.roles && c->role_xid != 0 && xid == c->role_xid;
    if (c->sw && (role_refused || is_slave)) {
        /* the role was refused (a newer generation came from another
         * provisioner: stale), or a write found us demoted: from now on
         * this connection does not write until a new lease says so */
        c->role = role_refused ? 0 : OFPCR_ROLE_SLAVE;
        c->role_sent = 0; /* asked again at the next round, which says why */
        msgf(c->sw->role_error, sizeof c->sw->role_error, "%s: %s",
             role_refused ? "the switch refused the role" : "the switch demoted it to slave",
             text);
        pthread_cond_broadcast(&n->cv);
        if (role_refused)
            return;
    }
    struct op *o = op_by_xid(c, xid);
    if (o == NULL)
        return;
    prov_result *res = o->res;
    if (is_slave)
        res->not_master = true;
    /* a slave's bundle is refused for the role, not for want of bundles */
    if (o->has_open && xid == o->open_xid && !is_slave)
        o->open_refused = true;
    /* In a bundle the error of the refused flow mod and the bundle's own
     * (commit failed) both arrive; the flow mod's is the one to report. */
    long mod = mod_index(o, xid);
    bool names_mod = mod >= 0;
    if (names_mod && res->n_errors > 0 && res->failed_index < 0)
        res->n_errors = 0;
    if (res->n_errors++ == 0) {
        res->err_type = e.type;
        res->err_code = e.code;
        if (names_mod) {
            res->failed_index = mod;
            msgf(res->message, sizeof res->message, "%s", text);
        } else {
            res->failed_index = -1;
            msgf(res->message, sizeof res->message, "%s", text);
        }
    }
    if (is_slave)
        msgf(res->message, sizeof res->message,
             "demoted to slave: another provisioner is the switch's master now (%s)", text);
    if (o->kind == OP_DUMP || o->kind == OP_MDUMP) {
        op_unlink(c, o);
        op_complete(n, o, false, "");
    }
}

/* The end of one part of a meter multipart reply, whichever kind: out of
 * memory, undecodable (what names the reply), or decoded - its cnt
 * entries added to *n_entries - and then the op completes when it was the
 * last part. */
static void meter_part_done(prov_net *n, struct conn *c, struct op *o, int rc, bool oom,
                            bool more, const struct ofp_err *oe, const char *what,
                            size_t *n_entries, size_t cnt)
{
    if (oom) {
        o->oom = true;
    } else if (rc != OFP_OK) {
        o->res->n_errors++;
        o->res->failed_index = -1;
        msgf(o->res->message, sizeof o->res->message, "undecodable %s reply: %s", what, oe->msg);
    } else {
        *n_entries += cnt;
        if (more)
            return;
    }
    op_unlink(c, o);
    op_complete(n, o, false, "");
}

/* Meter config and meter stats replies: count first (cap 0), then decode
 * into room of exactly that size. */
static void handle_meter_config(prov_net *n, struct conn *c, struct op *o, const uint8_t *m,
                                size_t len)
{
    size_t cnt = 0;
    bool more = false, oom = false;
    struct ofp_err oe;
    int rc = ofp_decode_meter_config_reply(m, len, NULL, 0, &cnt, &more, &oe);
    if (rc == OFP_OK || rc == OFP_E_TOO_MANY) {
        struct ofp_meter *v = cnt ? realloc(o->meters, (o->n_meters + cnt) * sizeof *v) : o->meters;
        oom = cnt && v == NULL;
        if (!oom) {
            o->meters = v;
            rc = ofp_decode_meter_config_reply(m, len, cnt ? v + o->n_meters : NULL, cnt, &cnt,
                                               &more, &oe);
        }
    }
    meter_part_done(n, c, o, rc, oom, more, &oe, "meter config", &o->n_meters, cnt);
}

static void handle_meter_stats(prov_net *n, struct conn *c, struct op *o, const uint8_t *m,
                               size_t len)
{
    size_t cnt = 0;
    bool more = false, oom = false;
    struct ofp_err oe;
    int rc = ofp_decode_meter_stats_reply(m, len, NULL, 0, &cnt, &more, &oe);
    if (rc == OFP_OK || rc == OFP_E_TOO_MANY) {
        struct ofp_meter_stats_entry *v =
            cnt ? realloc(o->mstats, (o->n_mstats + cnt) * sizeof *v) : o->mstats;
        oom = cnt && v == NULL;
        if (!oom) {
            o->mstats = v;
            rc = ofp_decode_meter_stats_reply(m, len, cnt ? v + o->n_mstats : NULL, cnt, &cnt,
                                              &more, &oe);
        }
    }
    meter_part_done(n, c, o, rc, oom, more, &oe, "meter stats", &o->n_mstats, cnt);
}

static void handle_multipart(prov_net *n, struct conn *c, const uint8_t *m, size_t len,
                             uint32_t xid)
{
    struct op *o = op_by_xid(c, xid);
    if (o == NULL || (o->kind != OP_DUMP && o->kind != OP_MDUMP))
        return;
    uint16_t type, flags;
    if (ofp_decode_multipart_header(m, len, OFPT_MULTIPART_REPLY, &type, &flags, NULL) != OFP_OK)
        return;
    if (o->kind == OP_MDUMP) {
        if (type == OFPMP_METER_CONFIG && o->mp_type == OFPMP_METER_CONFIG)
            handle_meter_config(n, c, o, m, len);
        else if (type == OFPMP_METER && o->mp_type == OFPMP_METER)
            handle_meter_stats(n, c, o, m, len);
        return;
    }
    if (type != OFPMP_FLOW)
        return;
    size_t cnt = 0;
    bool more = false;
    struct ofp_err oe;
    if (ofp_decode_flow_stats_reply(m, len, n->scratch, OFP_MAX_FLOW_ENTRIES_PER_MSG, &cnt, &more,
                                    &oe) != OFP_OK) {
        o->res->n_errors++;
        o->res->failed_index = -1;
        msgf(o->res->message, sizeof o->res->message, "undecodable flow stats reply: %s",
                 oe.msg);
        op_unlink(c, o);
        op_complete(n, o, false, "");
        return;
    }
    if (cnt > 0 && o->n_entries + cnt > o->cap_entries) {
        size_t cap = o->cap_entries ? o->cap_entries : 64;
        while (cap < o->n_entries + cnt)
            cap *= 2;
        struct ofp_flow_entry *v = realloc(o->entries, cap * sizeof *v);
        if (v == NULL) {
            o->oom = true;
            op_unlink(c, o);
            op_complete(n, o, false, "");
            return;
        }
        o->entries = v;
        o->cap_entries = cap;
    }
    if (cnt > 0)
        memcpy(o->entries + o->n_entries, n->scratch, cnt * sizeof *n->scratch);
    o->n_entries += cnt;
    if (!more) {
        op_unlink(c, o);
        op_complete(n, o, false, "");
    }
}

static const char *versions_text(uint32_t bitmap, uint8_t version, char *buf, size_t cap)
{
    static const char *const names[] = {"", "1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6"};
    buf[0] = '\0';
    if (bitmap == 0)
        bitmap = (version < 32) ? ((1u << (version + 1)) - 2) : 0;
    for (int v = 1; v < 8; v++)
        if (bitmap & (1u << v))
            msgf(buf + strlen(buf), cap - strlen(buf), "%s%s", buf[0] ? ", " : "", names[v]);
    if (buf[0] == '\0')
        msgf(buf, cap, "none known");
    return buf;
}

/* The certificate check of a connection that speaks for switch s: a
 * switch with a pinned certificate must present exactly it, over TLS. A
 * refusal closes the connection, counts and is audited. */
static bool cert_ok(prov_net *n, struct conn *c, struct sw *s)
{
    char fp[65] = "";
    bool tls = prov_tx_peer_sha256(c->tx, fp);
    if (s->cert_sha256[0] == '\0' || (tls && strcmp(fp, s->cert_sha256) == 0))
        return true;
    if (tls)
        msgf(c->close_reason, sizeof c->close_reason,
             "a connection claiming switch %s (datapath id %016llx) presented certificate "
             "sha256 %.16s..., not the one pinned to the switch: refused",
             s->name, (unsigned long long)s->dpid, fp);
    else
        msgf(c->close_reason, sizeof c->close_reason,
             "a connection claiming switch %s (datapath id %016llx) is not TLS, but the switch "
             "has a pinned certificate: refused",
             s->name, (unsigned long long)s->dpid);
    s->stats.refused++;
    note_refusal(n, s, fp, c->close_reason);
    if (c->sw == s && s->conn == c) {
        /* our own connection to the endpoint: it no longer speaks for s */
        msgf(s->error, sizeof s->error, "%s", c->close_reason);
    }
    c->closing = true;
    return false;
}

static void handle_message(prov_net *n, struct conn *c, const uint8_t *m, size_t len)
{
    struct ofp_msg_header h;
    if (ofp_decode_header(m, len, &h, NULL) != OFP_OK)
        return;
    uint8_t buf[256];
    size_t olen;
    switch (h.type) {
    case OFPT_HELLO: {
        struct ofp_hello hello;
        if (ofp_decode_hello(m, len, &hello, NULL) != OFP_OK || !hello.offers_13) {
            char v[64];
            ofp_encode_error(buf, sizeof buf, h.xid, OFPET_HELLO_FAILED, 0 /* incompatible */,
                             NULL, 0, &olen, NULL);
            out_append(c, buf, olen);
            msgf(c->close_reason, sizeof c->close_reason,
                     "the switch does not offer OpenFlow 1.3 (it offers %s): enable OpenFlow13 "
                     "on it",
                     versions_text(hello.has_bitmap ? hello.bitmap : 0, h.version, v, sizeof v));
            if (c->sw)
                c->sw->stats.refused++;
            c->closing = true;
            return;
        }
        if (c->st == C_HELLO) {
            if (ofp_encode_features_request(buf, sizeof buf, c->next_xid++, &olen, NULL) ==
                OFP_OK)
                out_append(c, buf, olen);
            c->st = C_FEATURES;
        }
        return;
    }
    case OFPT_ERROR:
        handle_error_msg(n, c, m, len, h.xid);
        return;
    case OFPT_ECHO_REQUEST: {
        const uint8_t *p;
        size_t plen;
        if (ofp_decode_echo(m, len, NULL, &p, &plen, NULL) == OFP_OK) {
            uint8_t *rb = malloc(plen + 16);
            if (rb && ofp_encode_echo_reply(rb, plen + 16, h.xid, p, plen, &olen, NULL) == OFP_OK)
                out_append(c, rb, olen);
            free(rb);
        }
        return;
    }
    case OFPT_ECHO_REPLY:
        c->echo_pending = false;
        return;
    case OFPT_FEATURES_REPLY: {
        struct ofp_features f;
        if (c->st != C_FEATURES || ofp_decode_features_reply(m, len, &f, NULL) != OFP_OK)
            return;
        if (c->sw != NULL) {
            if (f.datapath_id != c->sw->dpid) {
                msgf(c->close_reason, sizeof c->close_reason,
                         "datapath id mismatch: %.100s answers as %016llx, the database says "
                         "%016llx: fix the switch's endpoint or dpid",
                         c->sw->endpoint, (unsigned long long)f.datapath_id,
                         (unsigned long long)c->sw->dpid);
                c->sw->stats.refused++;
                c->closing = true;
                return;
            }
            if (!cert_ok(n, c, c->sw))
                return;
        } else {
            struct sw *s = NULL;
            for (size_t i = 0; i < n->n_sw; i++)
                if (n->sw[i]->dpid == f.datapath_id && n->sw[i]->endpoint[0] == '\0')
                    s = n->sw[i];
            if (s == NULL) {
                msgf(c->close_reason, sizeof c->close_reason,
                         "a switch with unknown datapath id %016llx connected: add it with "
                         "peerflow switch add (without --endpoint)",
                         (unsigned long long)f.datapath_id);
                c->closing = true;
                return;
            }
            /* before the live connection is replaced: an impostor with
             * another's datapath id must not knock it off */
            if (!cert_ok(n, c, s))
                return;
            if (s->conn != NULL && s->conn != c) {
                struct conn *old = s->conn;
                old->closing = true;
                msgf(old->close_reason, sizeof old->close_reason,
                         "replaced by a new connection from the switch");
                old->sw = NULL; /* it no longer speaks for the switch */
                while (old->ops) {
                    struct op *o = old->ops;
                    old->ops = o->next;
                    op_complete(n, o, true, "connection replaced by a new one from the switch");
                }
            }
            s->conn = c;
            c->sw = s;
        }
        c->st = C_UP;
        struct sw *s = c->sw;
        s->backoff = n->cfg.backoff_min_ms;
        s->error[0] = '\0';
        s->ever_up = true;
        s->stats.connects++;
        /* with roles, the reconciliation waits for the ROLE_REPLY that
         * makes this process master (handle_role_reply) */
        s->notify_connect = !n->cfg.roles;
        set_want(s, "connected", NULL);
        conn_send_role(n, c);
        pthread_cond_broadcast(&n->cv);
        return;
    }
    case OFPT_BARRIER_REPLY: {
        struct op *o = op_by_xid(c, h.xid);
        if (o && o->kind == OP_BATCH && h.xid == o->last_xid) {
            op_unlink(c, o);
            op_complete(n, o, false, "");
        }
        return;
    }
    case OFPT_MULTIPART_REPLY:
        handle_multipart(n, c, m, len, h.xid);
        return;
    case OFPT_ROLE_REPLY:
        handle_role_reply(n, c, m, len, h.xid);
        return;
    default:
        return; /* PACKET_IN, PORT_STATUS, FLOW_REMOVED, ...: not ours to act on */
    }
}

static void conn_read(prov_net *n, struct conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 4096) {
            size_t cap = c->in_cap ? c->in_cap * 2 : 16384;
            uint8_t *b = realloc(c->in, cap);
            if (b == NULL) {
                c->closing = true;
                msgf(c->close_reason, sizeof c->close_reason, "out of memory");
                return;
            }
            c->in = b;
            c->in_cap = cap;
        }
        ssize_t r = prov_tx_read(c->tx, c->in + c->in_len, c->in_cap - c->in_len);
        if (r == 0) {
            c->closing = true;
            msgf(c->close_reason, sizeof c->close_reason, "the switch closed the connection");
            break;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                c->closing = true;
                msgf(c->close_reason, sizeof c->close_reason, "read: %s", strerror(errno));
            }
            break;
        }
        c->in_len += (size_t)r;
        c->t_last_rx = now_ms();
        if ((size_t)r < 4096 && !prov_tx_pending(c->tx))
            break;
    }
    size_t off = 0;
    while (!c->closing && off < c->in_len) {
        size_t mlen = 0;
        struct ofp_err oe;
        int rc = ofp_frame_length(c->in + off, c->in_len - off, &mlen, &oe);
        if (rc == OFP_NEED_MORE)
            break;
        if (rc != OFP_OK) {
            c->closing = true;
            if (rc == OFP_E_BAD_VERSION && c->st != C_UP) {
                if (c->sw)
                    c->sw->stats.refused++;
                msgf(c->close_reason, sizeof c->close_reason,
                         "the switch speaks OpenFlow wire version 0x%02x, not 1.3 (0x04): enable "
                         "OpenFlow13 on it",
                         c->in[off]);
            } else {
                msgf(c->close_reason, sizeof c->close_reason, "protocol error: %s", oe.msg);
            }
            break;
        }
        handle_message(n, c, c->in + off, mlen);
        off += mlen;
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
}

static void conn_write(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = prov_tx_write(c->tx, c->out + c->out_off, c->out_len - c->out_off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                c->closing = true;
                msgf(c->close_reason, sizeof c->close_reason, "write: %s", strerror(errno));
            }
            return;
        }
        c->out_off += (size_t)w;
    }
    c->out_off = c->out_len = 0;
}

/* ------------------------------------------------------------- refresh */

static int parse_dpid(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 16);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* Re-reads the switch list (recorder thread, lock not held). */
static void refresh(prov_net *n)
{
    pf_err err;
    db_prov_switch *v = NULL;
    size_t cnt = 0;
    db_scope scope = db_scope_system();
    if (db_begin(n->db, &scope, &err) != PF_OK)
        return;
    pf_kind k = db_prov_switches(n->db, &v, &cnt, &err);
    db_rollback(n->db);
    if (k != PF_OK)
        return;
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->n_sw; i++) {
        n->sw[i]->present = false;
        /* re-assert what this process sees at every refresh: another
         * provisioner that stopped may have written "disconnected" for a
         * switch we still hold (the UPDATE only writes a difference) */
        n->sw[i]->written_once = false;
    }
    for (size_t i = 0; i < cnt; i++) {
        if (n->only_switch && strcmp(n->only_switch, v[i].name) != 0)
            continue;
        uint64_t dpid;
        if (parse_dpid(v[i].dpid, &dpid))
            continue;
        struct sw *s = sw_by_id(n, v[i].id);
        if (s == NULL) {
            if (n->n_sw == n->cap_sw) {
                size_t cap = n->cap_sw ? n->cap_sw * 2 : 16;
                struct sw **a = realloc(n->sw, cap * sizeof *a);
                if (a == NULL)
                    continue;
                n->sw = a;
                n->cap_sw = cap;
            }
            s = calloc(1, sizeof *s);
            if (s == NULL)
                continue;
            s->id = v[i].id;
            s->backoff = n->cfg.backoff_min_ms;
            msgf(s->want_state, sizeof s->want_state, "unknown");
            n->sw[n->n_sw++] = s;
        }
        s->present = true;
        msgf(s->name, sizeof s->name, "%s", v[i].name);
        bool changed = s->dpid != dpid || strcmp(s->endpoint, v[i].endpoint) != 0 ||
                       strcmp(s->cert_sha256, v[i].cert_sha256) != 0;
        msgf(s->cert_sha256, sizeof s->cert_sha256, "%s", v[i].cert_sha256);
        s->dpid = dpid;
        msgf(s->endpoint, sizeof s->endpoint, "%s", v[i].endpoint);
        if (changed && s->conn) {
            s->conn->closing = true;
            msgf(s->conn->close_reason, sizeof s->conn->close_reason,
                     "the switch's endpoint, datapath id or certificate changed");
            s->next_attempt = 0;
        }
    }
    for (size_t i = 0; i < n->n_sw;) {
        struct sw *s = n->sw[i];
        if (s->present) {
            i++;
            continue;
        }
        if (s->conn) {
            s->conn->sw = NULL;
            s->conn->closing = true;
            msgf(s->conn->close_reason, sizeof s->conn->close_reason, "switch removed");
        }
        free(s);
        n->sw[i] = n->sw[--n->n_sw];
    }
    pthread_mutex_unlock(&n->mu);
    wake(n); /* the I/O thread connects to new switches now, not after its poll */
    free(v);
}

/* ------------------------------------------------------------ the loop */

struct state_write {
    long long id;
    char state[16];
    char error[300];
};

/* Under the lock: the switch has a state the database does not know. */
static bool sw_dirty(const struct sw *s)
{
    return strcmp(s->want_state, "unknown") != 0 &&
           (!s->written_once || strcmp(s->want_state, s->written_state) != 0 ||
            strcmp(s->want_error, s->written_error) != 0);
}

static void deadline_ts(struct timespec *ts, int timeout_ms);

static void *io_main(void *arg)
{
    prov_net *n = arg;
    /* OpenSSL writes to its socket with write(), not send(MSG_NOSIGNAL): a
     * TLS peer that went away would raise SIGPIPE and kill the process.
     * Blocked in this thread (every socket write happens here), the write
     * fails with EPIPE instead; the process's disposition is not ours to
     * change. */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    struct pollfd *pfd = NULL;
    struct conn **pconn = NULL;
    size_t pcap = 0;
    for (;;) {
        pthread_mutex_lock(&n->mu);
        bool stopping = n->stop;
        int64_t t = now_ms();
        if (!stopping) {
            for (size_t i = 0; i < n->n_sw; i++) {
                struct sw *s = n->sw[i];
                if (s->conn == NULL && s->endpoint[0] && t >= s->next_attempt)
                    sw_connect(n, s);
            }
        }
        /* timers */
        for (struct conn *c = n->conns; c; c = c->next) {
            if (stopping) {
                c->closing = true;
                msgf(c->close_reason, sizeof c->close_reason, "the provisioner stopped");
                continue;
            }
            if (c->st != C_UP && t - c->t_start > n->cfg.handshake_ms) {
                c->closing = true;
                msgf(c->close_reason, sizeof c->close_reason,
                         "no OpenFlow handshake within %d ms", n->cfg.handshake_ms);
            } else if (c->st == C_UP && t - c->t_last_rx > n->cfg.dead_after_ms) {
                c->closing = true;
                if (c->sw)
                    c->sw->stats.echo_timeouts++;
                msgf(c->close_reason, sizeof c->close_reason,
                         "no answer to ECHO for %d ms: peer presumed dead", n->cfg.dead_after_ms);
            } else if (c->st == C_UP && t - c->t_last_rx >= n->cfg.echo_interval_ms &&
                       t - c->t_last_echo >= n->cfg.echo_interval_ms) {
                uint8_t buf[16];
                size_t len;
                if (ofp_encode_echo_request(buf, sizeof buf, c->next_xid++, NULL, 0, &len,
                                            NULL) == OFP_OK)
                    out_append(c, buf, len);
                c->t_last_echo = t;
                c->echo_pending = true;
            }
        }
        for (struct conn *c = n->conns; c;) {
            struct conn *next = c->next;
            if (c->closing)
                conn_close(n, c, c->close_reason);
            c = next;
        }
        if (stopping) {
            pthread_mutex_unlock(&n->mu);
            break;
        }
        size_t need = 2;
        for (struct conn *c = n->conns; c; c = c->next)
            need++;
        if (need > pcap) {
            pcap = need * 2;
            struct pollfd *a = realloc(pfd, pcap * sizeof *a);
            struct conn **b = realloc(pconn, pcap * sizeof *b);
            if (a)
                pfd = a;
            if (b)
                pconn = b;
            if (a == NULL || b == NULL) {
                pthread_mutex_unlock(&n->mu);
                usleep(10000);
                continue;
            }
        }
        size_t np = 0;
        pfd[np++] = (struct pollfd){.fd = n->wake[0], .events = POLLIN};
        if (n->listen_fd >= 0)
            pfd[np++] = (struct pollfd){.fd = n->listen_fd, .events = POLLIN};
        size_t first_conn = np;
        for (struct conn *c = n->conns; c; c = c->next) {
            short ev = prov_tx_events(c->tx, c->st != C_CONNECTING && c->out_len > c->out_off);
            pconn[np] = c;
            pfd[np++] = (struct pollfd){.fd = prov_tx_fd(c->tx), .events = ev};
        }
        pthread_mutex_unlock(&n->mu);

        int timeout = 100;
        poll(pfd, np, timeout);

        pthread_mutex_lock(&n->mu);
        if (pfd[0].revents & POLLIN) {
            char drain[64];
            while (read(n->wake[0], drain, sizeof drain) > 0) {
            }
        }
        if (n->listen_fd >= 0 && (pfd[1].revents & POLLIN)) {
            for (;;) {
                prov_tx *tx = prov_tx_accept(n->listen_fd, n->listen_tls ? n->tls : NULL);
                if (tx == NULL)
                    break;
                struct conn *c = conn_new(n, tx, NULL, false);
                if (c && !prov_tx_is_tls(tx))
                    conn_send_hello(c);
                else if (c)
                    c->st = C_CONNECTING; /* the TLS handshake first */
            }
        }
        for (size_t i = first_conn; i < np; i++) {
            struct conn *c = pconn[i];
            /* the conn may have been closed meanwhile only by this thread,
             * which did not run between poll and here: still valid */
            short re = pfd[i].revents;
            if (re == 0)
                continue;
            if (c->st == C_CONNECTING) {
                char why[300] = "";
                int rc = prov_tx_progress(c->tx, why, sizeof why);
                if (rc < 0) {
                    c->closing = true;
                    msgf(c->close_reason, sizeof c->close_reason, "%s", why);
                    if (c->sw == NULL && n->listen_tls)
                        n->tls_refused++; /* e.g. plain TCP on the TLS listener */
                    continue;
                }
                if (rc == 0)
                    continue;
                conn_send_hello(c);
            }
            if (re & (POLLIN | POLLHUP | POLLERR))
                conn_read(n, c);
            if (!c->closing && c->out_len > c->out_off)
                conn_write(c);
        }
        /* write whatever the callers queued since */
        for (struct conn *c = n->conns; c; c = c->next)
            if (!c->closing && c->st != C_CONNECTING && c->out_len > c->out_off)
                conn_write(c);
        for (struct conn *c = n->conns; c;) {
            struct conn *next = c->next;
            if (c->closing)
                conn_close(n, c, c->close_reason);
            c = next;
        }
        /* connect notifications; state changes go to the recorder */
        long long *notify = n->n_sw ? calloc(n->n_sw, sizeof *notify) : NULL;
        size_t nn = 0;
        bool dirty = false;
        for (size_t i = 0; i < n->n_sw; i++) {
            struct sw *s = n->sw[i];
            dirty = dirty || sw_dirty(s);
            if (s->notify_connect && notify) {
                s->notify_connect = false;
                notify[nn++] = s->id;
            }
        }
        if (dirty)
            pthread_cond_signal(&n->db_cv);
        pthread_mutex_unlock(&n->mu);
        for (size_t i = 0; i < nn; i++)
            if (n->cfg.on_connect)
                n->cfg.on_connect(n->cfg.on_connect_arg, notify[i]);
        free(notify);
    }
    free(pfd);
    free(pconn);
    return NULL;
}

/* ------------------------------------------------------ the recorder */

/* Writes the state changes collected since the last call (own thread,
 * lock not held on entry). A write that fails is tried again at the next
 * wake-up or refresh. */
/* Audits the connections refused for their certificate (recorder thread). */
static void write_refusals(prov_net *n)
{
    pthread_mutex_lock(&n->mu);
    struct refusal *v = n->refusals;
    size_t cnt = n->n_refusals;
    n->refusals = NULL;
    n->n_refusals = 0;
    pthread_mutex_unlock(&n->mu);
    if (cnt == 0 || !n->cfg.write_state) {
        free(v);
        return;
    }
    pf_err err;
    db_scope scope = db_scope_system();
    if (db_begin(n->db, &scope, &err) == PF_OK) {
        bool ok = true;
        for (size_t i = 0; i < cnt && ok; i++)
            ok = db_prov_audit_refusal(n->db, v[i].switch_id, v[i].dpid, v[i].presented,
                                       v[i].reason, &err) == PF_OK;
        if (ok)
            db_commit(n->db, &err);
        else
            db_rollback(n->db);
    }
    free(v);
}

static void write_states(prov_net *n)
{
    write_refusals(n);
    pthread_mutex_lock(&n->mu);
    struct state_write *w = n->n_sw ? calloc(n->n_sw, sizeof *w) : NULL;
    size_t nw = 0;
    for (size_t i = 0; w && i < n->n_sw; i++) {
        struct sw *s = n->sw[i];
        if (!sw_dirty(s))
            continue;
        w[nw].id = s->id;
        msgf(w[nw].state, sizeof w[nw].state, "%s", s->want_state);
        msgf(w[nw].error, sizeof w[nw].error, "%s", s->want_error);
        nw++;
        msgf(s->written_state, sizeof s->written_state, "%s", s->want_state);
        msgf(s->written_error, sizeof s->written_error, "%s", s->want_error);
        s->written_once = true;
    }
    pthread_mutex_unlock(&n->mu);
    if (!n->cfg.write_state || nw == 0) {
        free(w);
        return;
    }
    pf_err err;
    db_scope scope = db_scope_system();
    bool ok = db_begin(n->db, &scope, &err) == PF_OK;
    for (size_t i = 0; i < nw && ok; i++)
        ok = db_prov_switch_state(n->db, w[i].id, w[i].state, w[i].error[0] ? w[i].error : NULL,
                                  &err) == PF_OK;
    if (ok)
        ok = db_commit(n->db, &err) == PF_OK;
    else
        db_rollback(n->db);
    if (!ok) {
        pthread_mutex_lock(&n->mu);
        for (size_t i = 0; i < nw; i++) {
            struct sw *s = sw_by_id(n, w[i].id);
            if (s)
                s->written_once = false;
        }
        pthread_mutex_unlock(&n->mu);
    }
    free(w);
}

/* The only thread of prov_net that talks to the database: it re-reads
 * the switch list and records connection states. The I/O thread never
 * waits for PostgreSQL, so a slow or locked database cannot stall ECHO,
 * handshakes or batches on any switch (docs/fabric.md). */
static void *db_main(void *arg)
{
    prov_net *n = arg;
    int64_t next_refresh = 0;
    for (;;) {
        if (now_ms() >= next_refresh) {
            refresh(n);
            next_refresh = now_ms() + n->cfg.refresh_ms;
        }
        write_states(n);
        pthread_mutex_lock(&n->mu);
        if (n->db_stop) {
            pthread_mutex_unlock(&n->mu);
            break;
        }
        int64_t left = next_refresh - now_ms();
        if (left > 0) {
            struct timespec ts;
            deadline_ts(&ts, (int)left);
            pthread_cond_timedwait(&n->db_cv, &n->mu, &ts);
        }
        pthread_mutex_unlock(&n->mu);
    }
    /* stopped: the I/O thread has closed every connection (their state
     * is "disconnected, the provisioner stopped"): record it */
    write_states(n);
    return NULL;
}

/* --------------------------------------------------------- start, stop */


static void stop_db_thread(prov_net *n)
{
    pthread_mutex_lock(&n->mu);
    n->db_stop = true;
    pthread_cond_signal(&n->db_cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->db_thread, NULL);
}

prov_net *prov_net_start(const prov_net_config *cfg, pf_err *err)
{
    prov_net *n = calloc(1, sizeof *n);
    if (n == NULL) {
        pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        return NULL;
    }
    n->cfg = *cfg;
#define DEF(f, v)                                                                              \
    if (n->cfg.f <= 0)                                                                         \
    n->cfg.f = (v)
    DEF(echo_interval_ms, 5000);
    DEF(dead_after_ms, 15000);
    DEF(handshake_ms, 5000);
    DEF(backoff_min_ms, 100);
    DEF(backoff_max_ms, 5000);
    DEF(refresh_ms, 2000);
#undef DEF
    n->listen_fd = -1;
    n->wake[0] = n->wake[1] = -1;
    n->database_url = cfg->database_url ? strdup(cfg->database_url) : NULL;
    n->listen = cfg->listen && cfg->listen[0] ? strdup(cfg->listen) : NULL;
    n->only_switch = cfg->only_switch ? strdup(cfg->only_switch) : NULL;
    n->scratch = malloc(OFP_MAX_FLOW_ENTRIES_PER_MSG * sizeof *n->scratch);
    pthread_mutex_init(&n->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cv, &ca);
    pthread_cond_init(&n->db_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (n->scratch == NULL || pipe2(n->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "cannot set up the OpenFlow manager");
        goto fail;
    }
    n->db = db_connect_as(n->database_url, DB_ROLE_WORKER, err);
    if (n->db == NULL)
        goto fail;
    if (cfg->tls_dir && cfg->tls_dir[0] && (n->tls = prov_tx_tls_open(cfg->tls_dir, err)) == NULL)
        goto fail;
    if (n->listen && (n->listen_fd = prov_tx_listen(n->listen, n->tls, &n->listen_tls, err)) < 0)
        goto fail;
    if (pthread_create(&n->db_thread, NULL, db_main, n) != 0) {
        pf_fail(err, PF_EINTERNAL, "thread", NULL, "cannot start the OpenFlow state thread");
        goto fail;
    }
    if (pthread_create(&n->thread, NULL, io_main, n) != 0) {
        pf_fail(err, PF_EINTERNAL, "thread", NULL, "cannot start the OpenFlow thread");
        stop_db_thread(n);
        goto fail;
    }
    return n;
fail:
    if (n->listen_fd >= 0)
        close(n->listen_fd);
    prov_tx_tls_free(n->tls);
    db_close(n->db);
    if (n->wake[0] >= 0)
        close(n->wake[0]), close(n->wake[1]);
    free(n->scratch);
    free(n->database_url), free(n->listen), free(n->only_switch);
    free(n);
    return NULL;
}

void prov_net_stop(prov_net *n)
{
    if (n == NULL)
        return;
    pthread_mutex_lock(&n->mu);
    n->stop = true;
    pthread_mutex_unlock(&n->mu);
    wake(n);
    pthread_join(n->thread, NULL);
    stop_db_thread(n); /* after the I/O thread: it records the last states */
    if (n->listen_fd >= 0) {
        close(n->listen_fd);
        if (n->listen && strncmp(n->listen, "unix:", 5) == 0)
            unlink(n->listen + 5);
    }
    for (size_t i = 0; i < n->n_sw; i++)
        free(n->sw[i]);
    free(n->sw);
    db_close(n->db);
    close(n->wake[0]);
    close(n->wake[1]);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    pthread_cond_destroy(&n->db_cv);
    free(n->scratch);
    free(n->refusals);
    prov_tx_tls_free(n->tls);
    free(n->database_url), free(n->listen), free(n->only_switch);
    free(n);
}

/* ------------------------------------------------------- caller side */

static void deadline_ts(struct timespec *ts, int timeout_ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

bool prov_net_connected(prov_net *n, long long switch_id)
{
    pthread_mutex_lock(&n->mu);
    struct sw *s = sw_by_id(n, switch_id);
    bool up = s && s->conn && s->conn->st == C_UP;
    pthread_mutex_unlock(&n->mu);
    return up;
}

bool prov_net_wait_connected(prov_net *n, long long switch_id, int timeout_ms)
{
    struct timespec ts;
    deadline_ts(&ts, timeout_ms);
    pthread_mutex_lock(&n->mu);
    bool up = false;
    for (;;) {
        struct sw *s = sw_by_id(n, switch_id);
        up = s && s->conn && s->conn->st == C_UP;
        if (up || pthread_cond_timedwait(&n->cv, &n->mu, &ts) == ETIMEDOUT)
            break;
    }
    if (!up) {
        struct sw *s = sw_by_id(n, switch_id);
        up = s && s->conn && s->conn->st == C_UP;
    }
    pthread_mutex_unlock(&n->mu);
    return up;
}

void prov_net_last_error(prov_net *n, long long switch_id, char *buf, size_t cap)
{
    pthread_mutex_lock(&n->mu);
    struct sw *s = sw_by_id(n, switch_id);
    msgf(buf, cap, "%s", s ? s->error : "switch not known to the provisioner yet");
    pthread_mutex_unlock(&n->mu);
}

void prov_net_get_stats(prov_net *n, long long switch_id, prov_net_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&n->mu);
    struct sw *s = sw_by_id(n, switch_id);
    if (s)
        *out = s->stats;
    pthread_mutex_unlock(&n->mu);
}

static bool is_master_locked(prov_net *n, const struct sw *s);

/* Under the lock: the switch's live connection, or NULL with res filled.
 * A write (write) with roles needs this process to be the switch's
 * confirmed master within its lease. */
static struct conn *usable_conn_for(prov_net *n, long long switch_id, bool write,
                                    prov_result *res)
{
    struct sw *s = sw_by_id(n, switch_id);
    if (s == NULL) {
        res->unreachable = true;
        msgf(res->message, sizeof res->message,
                 "the switch (id %lld) is not known to the provisioner yet (it reads the switch list "
                 "every few seconds)",
                 switch_id);
        return NULL;
    }
    if (s->conn == NULL || s->conn->st != C_UP || s->conn->closing) {
        res->unreachable = true;
        msgf(res->message, sizeof res->message, "switch %s is not connected%s%s", s->name,
                 s->error[0] ? ": " : "", s->error);
        return NULL;
    }
    if (write && n->cfg.roles && !is_master_locked(n, s)) {
        res->unreachable = true;
        res->not_master = true;
        msgf(res->message, sizeof res->message,
             "this provisioner is not the OpenFlow master of switch %s%s%s", s->name,
             s->role_error[0] ? ": " : " (another holds its lease, or the role is not confirmed)",
             s->role_error);
        return NULL;
    }
    return s->conn;
}

static struct conn *usable_conn(prov_net *n, long long switch_id, prov_result *res)
{
    return usable_conn_for(n, switch_id, true, res);
}

static bool is_master_locked(prov_net *n, const struct sw *s)
{
    if (s->conn == NULL || s->conn->st != C_UP || s->conn->closing)
        return false;
    if (!n->cfg.roles)
        return true;
    return s->conn->role == OFPCR_ROLE_MASTER && s->want_role == OFPCR_ROLE_MASTER &&
           now_ms() < s->master_until;
}

bool prov_net_is_master(prov_net *n, long long switch_id)
{
    pthread_mutex_lock(&n->mu);
    struct sw *s = sw_by_id(n, switch_id);
    bool m = s && is_master_locked(n, s);
    pthread_mutex_unlock(&n->mu);
    return m;
}

void prov_net_set_role(prov_net *n, long long switch_id, bool master, uint64_t generation,
                       int valid_ms)
{
    pthread_mutex_lock(&n->mu);
    struct sw *s = sw_by_id(n, switch_id);
    if (s) {
        s->want_role = master ? OFPCR_ROLE_MASTER : OFPCR_ROLE_SLAVE;
        s->want_gen = generation;
        s->master_until = master ? now_ms() + valid_ms : 0;
        if (s->conn)
            conn_send_role(n, s->conn);
    }
    pthread_mutex_unlock(&n->mu);
}

bool prov_net_role(prov_net *n, long long switch_id, uint32_t *role, uint64_t *generation)
{
    pthread_mutex_lock(&n->mu);
    struct sw *s = sw_by_id(n, switch_id);
    bool up = s && s->conn && s->conn->st == C_UP;
    *role = up ? s->conn->role : 0;
    *generation = up ? s->conn->role_gen : 0;
    pthread_mutex_unlock(&n->mu);
    return up;
}

size_t prov_net_connected_ids(prov_net *n, long long *ids, size_t cap)
{
    size_t k = 0;
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->n_sw; i++) {
        struct sw *s = n->sw[i];
        if (s->conn && s->conn->st == C_UP && !s->conn->closing && k < cap)
            ids[k++] = s->id;
    }
    pthread_mutex_unlock(&n->mu);
    return k;
}

static bool wait_op(prov_net *n, struct op *o, int timeout_ms, const char *what)
{
    struct timespec ts;
    deadline_ts(&ts, timeout_ms);
    while (!o->done) {
        if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) == ETIMEDOUT && !o->done) {
            if (o->conn)
                op_unlink(o->conn, o);
            o->conn = NULL;
            o->done = true;
            o->res->ok = false;
            o->res->unreachable = true;
            msgf(o->res->message, sizeof o->res->message, "no %s reply within %d ms", what,
                     timeout_ms);
            break;
        }
    }
    /* a write refused because another provisioner is master now: the
     * job waits, as for a switch out of reach, and never fails for it */
    if (o->res->not_master)
        o->res->unreachable = true;
    return o->res->ok;
}

/* Puts o (whose messages are queued on o->conn) among its connection's
 * operations, wakes the I/O thread and waits for o's answer (n->mu held);
 * the outcome is in o->res. */
static void send_and_wait(prov_net *n, struct op *o, int timeout_ms, const char *what)
{
    o->next = o->conn->ops;
    o->conn->ops = o;
    wake(n);
    wait_op(n, o, timeout_ms, what);
}

/* Under the lock: queues one message (or the bundle add that wraps it). */
static bool queue_flow_mod(struct conn *c, const struct ofp_flow *f, uint32_t xid, bool in_bundle,
                           uint32_t bundle_id, size_t i, prov_result *res)
{
    uint8_t buf[2048], wrapped[2048 + 64];
    size_t len;
    struct ofp_err oe;
    if (ofp_encode_flow_mod(buf, sizeof buf, xid, f, &len, &oe) != OFP_OK ||
        (in_bundle && ofp_encode_bundle_add(wrapped, sizeof wrapped, xid, bundle_id,
                                            OFPBF_ATOMIC | OFPBF_ORDERED, buf, len, &len,
                                            &oe) != OFP_OK)) {
        /* nothing of a batch that cannot be encoded is useful: the
         * messages already queued are harmless (the barrier is not sent,
         * so nobody waits for them; an open bundle dies with its
         * connection or is replaced by the next one) */
        res->n_errors = 1;
        res->failed_index = (long)i;
        msgf(res->message, sizeof res->message, "cannot encode flow %zu: %s", i, oe.msg);
        return false;
    }
    if (!out_append(c, in_bundle ? wrapped : buf, len)) {
        msgf(res->message, sizeof res->message, "out of memory");
        return false;
    }
    return true;
}

static void queue_bundle_ctrl(struct conn *c, uint32_t xid, uint32_t id, uint16_t type)
{
    uint8_t buf[64];
    size_t len;
    struct ofp_bundle_ctrl bc = {id, type, OFPBF_ATOMIC | OFPBF_ORDERED};
    if (ofp_encode_bundle_ctrl(buf, sizeof buf, xid, &bc, &len, NULL) == OFP_OK)
        out_append(c, buf, len);
}

static uint32_t queue_barrier(struct conn *c)
{
    uint8_t buf[16];
    size_t len;
    uint32_t xid = c->next_xid++;
    ofp_encode_barrier_request(buf, sizeof buf, xid, &len, NULL);
    out_append(c, buf, len);
    return xid;
}

/* The flow mods in one bundle (ONF extension 230): OPEN, the mods as
 * bundle adds, BARRIER: every mod has then been checked by the switch and
 * nothing applied. An error on a mod: DISCARD, and the switch is as it
 * was. Else COMMIT, BARRIER: all of them applied at once, or (an error at
 * commit) none. *refused: the switch refused the OPEN (no bundles); the
 * caller falls back. Under the lock; wait_op releases it while waiting. */
static bool bundle_batch(prov_net *n, long long switch_id, struct conn *c,
                         const struct ofp_flow *mods, size_t n_mods, int timeout_ms,
                         prov_result *res, bool *refused)
{
    *refused = false;
    unsigned long gen = c->gen;
    uint32_t id = ++c->next_bundle;
    struct op o = {.kind = OP_BATCH, .conn = c, .res = res, .n_mods = n_mods, .has_open = true};
    o.open_xid = c->next_xid++;
    queue_bundle_ctrl(c, o.open_xid, id, OFPBCT_OPEN_REQUEST);
    o.first_xid = c->next_xid;
    for (size_t i = 0; i < n_mods; i++)
        if (!queue_flow_mod(c, &mods[i], c->next_xid++, true, id, i, res))
            return false;
    o.last_xid = queue_barrier(c);
    send_and_wait(n, &o, timeout_ms, "BARRIER");
    if (o.open_refused) {
        *refused = true;
        return false;
    }
    if (res->unreachable)
        return false;
    /* the lock was released while waiting: the connection may be gone (a
     * bundle does not outlive its connection) */
    prov_result tmp = {0};
    c = usable_conn(n, switch_id, &tmp);
    if (c == NULL || c->gen != gen) {
        res->ok = false;
        res->unreachable = true;
        msgf(res->message, sizeof res->message, "%s",
             c ? "the connection was replaced during the bundle" : tmp.message);
        return false;
    }
    if (!res->ok) {
        queue_bundle_ctrl(c, c->next_xid++, id, OFPBCT_DISCARD_REQUEST);
        wake(n);
        return false;
    }
    struct op o2 = {.kind = OP_BATCH, .conn = c, .res = res, .n_mods = n_mods,
                    .first_xid = o.first_xid};
    memset(res, 0, sizeof *res);
    res->failed_index = -1;
    queue_bundle_ctrl(c, c->next_xid++, id, OFPBCT_COMMIT_REQUEST);
    o2.last_xid = queue_barrier(c);
    send_and_wait(n, &o2, timeout_ms, "BARRIER");
    struct sw *s = sw_by_id(n, switch_id);
    if (res->ok && s)
        s->bundles = 1;
    return res->ok;
}

static bool batch(prov_net *n, long long switch_id, const struct ofp_flow *mods, size_t n_mods,
                  bool atomic, int timeout_ms, prov_result *res)
{
    memset(res, 0, sizeof *res);
    res->failed_index = -1;
    pthread_mutex_lock(&n->mu);
    /* a batch of no mods is a BARRIER alone, a probe that changes nothing:
     * allowed in any role */
    struct conn *c = usable_conn_for(n, switch_id, n_mods > 0, res);
    if (c == NULL) {
        pthread_mutex_unlock(&n->mu);
        return false;
    }
    /* one message is atomic by itself: no bundle needed */
    if (atomic && n_mods > 1 && c->sw->bundles >= 0) {
        bool refused = false;
        bool ok = bundle_batch(n, switch_id, c, mods, n_mods, timeout_ms, res, &refused);
        if (!refused) {
            pthread_mutex_unlock(&n->mu);
            return ok;
        }
        struct sw *s = sw_by_id(n, switch_id);
        if (s) {
            s->bundles = -1;
            s->stats.bundle_fallbacks++;
            if (n->cfg.log) {
                char line[600];
                msgf(line, sizeof line,
                     "switch %s refused an OpenFlow bundle (%s): its batches are sent without "
                     "bundles, confirmed by barrier, from now on",
                     s->name, res->message);
                n->cfg.log(n->cfg.log_arg, line);
            }
        }
        memset(res, 0, sizeof *res);
        res->failed_index = -1;
        c = usable_conn(n, switch_id, res);
        if (c == NULL) {
            pthread_mutex_unlock(&n->mu);
            return false;
        }
    }
    struct op o = {.kind = OP_BATCH, .conn = c, .res = res, .n_mods = n_mods};
    o.first_xid = c->next_xid;
    for (size_t i = 0; i < n_mods; i++) {
        if (!queue_flow_mod(c, &mods[i], c->next_xid++, false, 0, i, res)) {
            pthread_mutex_unlock(&n->mu);
            return false;
        }
    }
    o.last_xid = queue_barrier(c);
    send_and_wait(n, &o, timeout_ms, "BARRIER");
    pthread_mutex_unlock(&n->mu);
    return res->ok;
}

bool prov_net_batch(prov_net *n, long long switch_id, const struct ofp_flow *mods,
                    size_t n_mods, int timeout_ms, prov_result *res)
{
    return batch(n, switch_id, mods, n_mods, true, timeout_ms, res);
}

bool prov_net_batch_plain(prov_net *n, long long switch_id, const struct ofp_flow *mods,
                          size_t n_mods, int timeout_ms, prov_result *res)
{
    return batch(n, switch_id, mods, n_mods, false, timeout_ms, res);
}

/* ------------------------------------------------- a streamed bundle */

struct prov_stream {
    prov_net *n;
    long long switch_id;
    unsigned long gen; /* the connection it was opened on */
    uint32_t bundle_id;
    struct op o;
    prov_result res;   /* the op's, until the end */
    uint32_t *xids;    /* of each mod queued */
    size_t cap_xids;
    size_t sent;       /* mods queued so far */
    bool failed;       /* res says why; nothing more is queued */
};

/* Under the lock: the stream's connection, or NULL (st->res says why). */
static struct conn *stream_conn(struct prov_stream *st)
{
    if (st->failed)
        return NULL;
    prov_result tmp = {0};
    struct conn *c = usable_conn(st->n, st->switch_id, &tmp);
    if (c == NULL || c->gen != st->gen || st->o.done) {
        st->failed = true;
        if (!st->o.done) {
            st->res.ok = false;
            st->res.unreachable = true;
            st->res.not_master = tmp.not_master;
            msgf(st->res.message, sizeof st->res.message, "%s",
                 c ? "the connection was replaced during the bundle" : tmp.message);
        }
        return NULL;
    }
    return c;
}

prov_stream *prov_net_stream_open(prov_net *n, long long switch_id)
{
    pthread_mutex_lock(&n->mu);
    prov_result tmp = {0};
    struct conn *c = usable_conn(n, switch_id, &tmp);
    /* a switch known to refuse bundles, or not writable now: the caller
     * sends its mods with prov_net_batch, which says why */
    if (c == NULL || c->sw->bundles < 0) {
        pthread_mutex_unlock(&n->mu);
        return NULL;
    }
    struct prov_stream *st = calloc(1, sizeof *st);
    if (st == NULL) {
        pthread_mutex_unlock(&n->mu);
        return NULL;
    }
    st->n = n;
    st->switch_id = switch_id;
    st->gen = c->gen;
    st->bundle_id = ++c->next_bundle;
    st->res.failed_index = -1;
    st->o.kind = OP_BATCH;
    st->o.conn = c;
    st->o.res = &st->res;
    st->o.has_open = true;
    st->o.open_xid = c->next_xid++;
    queue_bundle_ctrl(c, st->o.open_xid, st->bundle_id, OFPBCT_OPEN_REQUEST);
    st->o.first_xid = c->next_xid;
    /* no barrier yet: no reply completes the op until the last mod is
     * queued; errors on the mods are collected as they come */
    st->o.last_xid = UINT32_MAX;
    st->o.next = c->ops;
    c->ops = &st->o;
    wake(n);
    pthread_mutex_unlock(&n->mu);
    return st;
}

/* Under the lock: queues mods[st->sent .. n_mods). */
static bool stream_queue(struct prov_stream *st, struct conn *c, const struct ofp_flow *mods,
                         size_t n_mods)
{
    if (n_mods > st->cap_xids) {
        size_t cap = st->cap_xids ? st->cap_xids : 1024;
        while (cap < n_mods)
            cap *= 2;
        uint32_t *x = realloc(st->xids, cap * sizeof *x);
        if (x == NULL) {
            st->failed = true;
            msgf(st->res.message, sizeof st->res.message, "out of memory");
            return false;
        }
        st->xids = x;
        st->cap_xids = cap;
        st->o.mod_xids = x;
    }
    for (size_t i = st->sent; i < n_mods; i++) {
        uint32_t xid = c->next_xid++;
        if (!queue_flow_mod(c, &mods[i], xid, true, st->bundle_id, i, &st->res)) {
            st->failed = true;
            return false;
        }
        st->xids[i] = xid;
        st->o.n_mods = i + 1;
    }
    st->sent = n_mods;
    return true;
}

bool prov_net_stream_push(prov_stream *st, const struct ofp_flow *mods, size_t n_mods)
{
    pthread_mutex_lock(&st->n->mu);
    struct conn *c = stream_conn(st);
    bool ok = c && stream_queue(st, c, mods, n_mods);
    if (ok)
        wake(st->n);
    pthread_mutex_unlock(&st->n->mu);
    return ok;
}

/* Under the lock: the op no longer waits on the connection. */
static void stream_drop(struct prov_stream *st)
{
    if (!st->o.done && st->o.conn)
        op_unlink(st->o.conn, &st->o);
    st->o.done = true;
    st->o.conn = NULL;
}

bool prov_net_stream_finish(prov_stream *st, const struct ofp_flow *mods, size_t n_mods,
                            int timeout_ms, prov_result *res)
{
    prov_net *n = st->n;
    pthread_mutex_lock(&n->mu);
    struct conn *c = stream_conn(st);
    if (c && stream_queue(st, c, mods, n_mods)) {
        uint32_t last = queue_barrier(c);
        st->o.last_xid = last;
        wake(n);
        wait_op(n, &st->o, timeout_ms, "BARRIER");
    } else {
        if (c) /* what was queued stays uncommitted: drop the bundle */
            queue_bundle_ctrl(c, c->next_xid++, st->bundle_id, OFPBCT_DISCARD_REQUEST), wake(n);
        stream_drop(st);
        if (st->res.message[0] == '\0')
            msgf(st->res.message, sizeof st->res.message, "the bundle could not be sent");
        st->res.ok = false;
    }
    *res = st->res;
    bool refused = st->o.open_refused;
    unsigned long gen = st->gen;
    long long switch_id = st->switch_id;
    uint32_t id = st->bundle_id;
    /* the commit's errors name the mods too: their xids stay known */
    uint32_t *xids = st->xids, first_xid = st->o.first_xid;
    size_t n_sent = st->o.n_mods;
    free(st);
    if (refused) {
        /* as batch() does: from now on without bundles, all mods again */
        struct sw *s = sw_by_id(n, switch_id);
        if (s) {
            s->bundles = -1;
            s->stats.bundle_fallbacks++;
            if (n->cfg.log) {
                char line[600];
                msgf(line, sizeof line,
                     "switch %s refused an OpenFlow bundle (%s): its batches are sent without "
                     "bundles, confirmed by barrier, from now on",
                     s->name, res->message);
                n->cfg.log(n->cfg.log_arg, line);
            }
        }
        pthread_mutex_unlock(&n->mu);
        free(xids);
        return batch(n, switch_id, mods, n_mods, false, timeout_ms, res);
    }
    if (!res->ok || res->unreachable) {
        /* refused mods: nothing of the bundle is applied; drop it */
        c = res->unreachable ? NULL : usable_conn_for(n, switch_id, false, &(prov_result){0});
        if (c && c->gen == gen) {
            queue_bundle_ctrl(c, c->next_xid++, id, OFPBCT_DISCARD_REQUEST);
            wake(n);
        }
        pthread_mutex_unlock(&n->mu);
        free(xids);
        return false;
    }
    /* every mod checked: commit, confirmed by barrier (as bundle_batch) */
    prov_result tmp = {0};
    c = usable_conn(n, switch_id, &tmp);
    if (c == NULL || c->gen != gen) {
        res->ok = false;
        res->unreachable = true;
        msgf(res->message, sizeof res->message, "%s",
             c ? "the connection was replaced during the bundle" : tmp.message);
        pthread_mutex_unlock(&n->mu);
        free(xids);
        return false;
    }
    memset(res, 0, sizeof *res);
    res->failed_index = -1;
    struct op o2 = {.kind = OP_BATCH, .conn = c, .res = res, .n_mods = n_sent,
                    .first_xid = first_xid, .mod_xids = xids};
    queue_bundle_ctrl(c, c->next_xid++, id, OFPBCT_COMMIT_REQUEST);
    o2.last_xid = queue_barrier(c);
    send_and_wait(n, &o2, timeout_ms, "BARRIER");
    struct sw *s = sw_by_id(n, switch_id);
    if (res->ok && s)
        s->bundles = 1;
    pthread_mutex_unlock(&n->mu);
    free(xids);
    return res->ok;
}

void prov_net_stream_abort(prov_stream *st)
{
    if (st == NULL)
        return;
    prov_net *n = st->n;
    pthread_mutex_lock(&n->mu);
    prov_result tmp = {0};
    struct conn *c = usable_conn_for(n, st->switch_id, false, &tmp);
    if (c && c->gen == st->gen) {
        queue_bundle_ctrl(c, c->next_xid++, st->bundle_id, OFPBCT_DISCARD_REQUEST);
        wake(n);
    }
    stream_drop(st);
    pthread_mutex_unlock(&n->mu);
    free(st->xids);
    free(st);
}

bool prov_net_meter_batch(prov_net *n, long long switch_id, const struct ofp_meter *mods,
                          size_t n_mods, int timeout_ms, prov_result *res)
{
    memset(res, 0, sizeof *res);
    res->failed_index = -1;
    pthread_mutex_lock(&n->mu);
    struct conn *c = usable_conn(n, switch_id, res);
    if (c == NULL) {
        pthread_mutex_unlock(&n->mu);
        return false;
    }
    struct op o = {.kind = OP_BATCH, .conn = c, .res = res, .n_mods = n_mods};
    o.first_xid = c->next_xid;
    for (size_t i = 0; i < n_mods; i++) {
        uint8_t buf[512];
        size_t len;
        struct ofp_err oe;
        if (ofp_encode_meter_mod(buf, sizeof buf, c->next_xid++, &mods[i], &len, &oe) != OFP_OK) {
            res->n_errors = 1;
            res->failed_index = (long)i;
            msgf(res->message, sizeof res->message, "cannot encode meter %zu: %s", i, oe.msg);
            pthread_mutex_unlock(&n->mu);
            return false;
        }
        if (!out_append(c, buf, len)) {
            msgf(res->message, sizeof res->message, "out of memory");
            pthread_mutex_unlock(&n->mu);
            return false;
        }
    }
    o.last_xid = queue_barrier(c);
    send_and_wait(n, &o, timeout_ms, "BARRIER");
    pthread_mutex_unlock(&n->mu);
    return res->ok;
}

bool prov_net_meter_dump(prov_net *n, long long switch_id, int timeout_ms,
                         struct ofp_meter **out, size_t *n_out, prov_result *res)
{
    memset(res, 0, sizeof *res);
    res->failed_index = -1;
    *out = NULL;
    *n_out = 0;
    pthread_mutex_lock(&n->mu);
    struct conn *c = usable_conn_for(n, switch_id, false, res);
    if (c == NULL) {
        pthread_mutex_unlock(&n->mu);
        return false;
    }
    struct op o = {.kind = OP_MDUMP, .conn = c, .res = res, .mp_type = OFPMP_METER_CONFIG};
    uint8_t buf[64];
    size_t len;
    o.last_xid = c->next_xid++;
    ofp_encode_meter_config_request(buf, sizeof buf, o.last_xid, OFPM_ALL, &len, NULL);
    out_append(c, buf, len);
    send_and_wait(n, &o, timeout_ms, "meter config");
    pthread_mutex_unlock(&n->mu);
    if (res->ok) {
        *out = o.meters;
        *n_out = o.n_meters;
    } else {
        free(o.meters);
    }
    return res->ok;
}

bool prov_net_meter_stats(prov_net *n, long long switch_id, int timeout_ms,
                          struct ofp_meter_stats_entry **out, size_t *n_out, prov_result *res)
{
    memset(res, 0, sizeof *res);
    res->failed_index = -1;
    *out = NULL;
    *n_out = 0;
    pthread_mutex_lock(&n->mu);
    struct conn *c = usable_conn(n, switch_id, res);
    if (c == NULL) {
        pthread_mutex_unlock(&n->mu);
        return false;
    }
    struct op o = {.kind = OP_MDUMP, .conn = c, .res = res, .mp_type = OFPMP_METER};
    uint8_t buf[64];
    size_t len;
    o.last_xid = c->next_xid++;
    ofp_encode_meter_stats_request(buf, sizeof buf, o.last_xid, OFPM_ALL, &len, NULL);
    out_append(c, buf, len);
    send_and_wait(n, &o, timeout_ms, "meter stats");
    pthread_mutex_unlock(&n->mu);
    if (res->ok) {
        *out = o.mstats;
        *n_out = o.n_mstats;
    } else {
        free(o.mstats);
    }
    return res->ok;
}

bool prov_net_dump(prov_net *n, long long switch_id, const struct ofp_flow_stats_req *req,
                   int timeout_ms, struct ofp_flow_entry **out, size_t *n_out, prov_result *res)
{
    memset(res, 0, sizeof *res);
    res->failed_index = -1;
    *out = NULL;
    *n_out = 0;
    pthread_mutex_lock(&n->mu);
    struct conn *c = usable_conn_for(n, switch_id, false, res);
    if (c == NULL) {
        pthread_mutex_unlock(&n->mu);
        return false;
    }
    struct op o = {.kind = OP_DUMP, .conn = c, .res = res};
    uint8_t buf[512];
    size_t len;
    o.last_xid = c->next_xid++;
    struct ofp_err oe;
    if (ofp_encode_flow_stats_request(buf, sizeof buf, o.last_xid, req, &len, &oe) != OFP_OK) {
        msgf(res->message, sizeof res->message, "cannot encode the flow stats request: %s",
                 oe.msg);
        pthread_mutex_unlock(&n->mu);
        return false;
    }
    out_append(c, buf, len);
    send_and_wait(n, &o, timeout_ms, "flow stats");
    pthread_mutex_unlock(&n->mu);
    if (res->ok) {
        *out = o.entries;
        *n_out = o.n_entries;
    } else {
        free(o.entries);
    }
    return res->ok;
}

unsigned long prov_net_tls_refused(prov_net *n)
{
    pthread_mutex_lock(&n->mu);
    unsigned long v = n->tls_refused;
    pthread_mutex_unlock(&n->mu);
    return v;
}
