/* wf_bgp_render: see bgp_render.h; the policy is in docs/bgp.md.
 *
 * Every value reaches the output in one of three ways: numbers (ASNs,
 * limits, the request id) printed by us; addresses, prefixes and the
 * secret, which were checked to be in their canonical form (so they
 * contain no character any dialect treats specially); network names,
 * which go through name_filter. Nothing else from the caller is
 * written. */
#include "workflow/bgp_render.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workflow/validate.h"

/* ---- names of the daemons ---- */

static const char *const daemon_names[WF_BGP__COUNT] = {"bird2", "frr", "junos", "eos"};

bool wf_bgp_daemon_parse(const char *name, wf_bgp_daemon *out)
{
    for (int d = 0; name != NULL && d < WF_BGP__COUNT; d++)
        if (strcmp(name, daemon_names[d]) == 0) {
            *out = (wf_bgp_daemon)d;
            return true;
        }
    return false;
}

const char *wf_bgp_daemon_name(wf_bgp_daemon d)
{
    return (unsigned)d < WF_BGP__COUNT ? daemon_names[d] : "unknown";
}

const char *wf_bgp_daemon_list(void)
{
    return "bird2, frr, junos, eos";
}

/* ---- a growing string; on allocation failure it only remembers that ---- */

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} sb;

__attribute__((format(printf, 2, 3))) static void sb_add(sb *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->buf ? b->buf + b->len : NULL, b->buf ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->buf != NULL && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap <= b->len + (size_t)n)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (nb == NULL) {
            b->oom = true;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
}

/* ---- addresses and prefixes ---- */

typedef struct {
    int af; /* AF_INET or AF_INET6 */
    unsigned char a[16];
    int len;
    const char *text; /* the caller's canonical text */
} prefix;

static int af_bits(int af)
{
    return af == AF_INET ? 32 : 128;
}

/* s is an address of family af written exactly as inet_ntop writes it
 * (so "100.64.0.0" and "2001:db8::1", not "100.064.0.0" or "2001:DB8::1"). */
static bool addr_canonical(int af, const char *s, unsigned char out[16])
{
    char back[INET6_ADDRSTRLEN];
    if (s == NULL || strlen(s) >= sizeof back)
        return false;
    memset(out, 0, 16);
    if (inet_pton(af, s, out) != 1)
        return false;
    return inet_ntop(af, out, back, sizeof back) != NULL && strcmp(back, s) == 0;
}

/* the first len bits of a and b are equal */
static bool bits_equal(const unsigned char *a, const unsigned char *b, int len)
{
    int whole = len / 8, rest = len % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

static bool host_bits_zero(const unsigned char *a, int len, int bits)
{
    for (int i = len; i < bits; i++)
        if (a[i / 8] & (0x80 >> (i % 8)))
            return false;
    return true;
}

/* "ADDR/LEN" in canonical form: af's address as inet_ntop writes it,
 * LEN in decimal without leading zeros, no host bit set. */
static bool cidr_parse(int af, const char *s, prefix *out)
{
    if (s == NULL)
        return false;
    const char *slash = strchr(s, '/');
    if (slash == NULL || slash - s >= INET6_ADDRSTRLEN)
        return false;
    char addr[INET6_ADDRSTRLEN];
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    const char *l = slash + 1;
    size_t ln = strlen(l);
    if (ln == 0 || ln > 3 || (l[0] == '0' && ln > 1) || strspn(l, "0123456789") != ln)
        return false;
    int len = atoi(l);
    if (len > af_bits(af) || !addr_canonical(af, addr, out->a) || !host_bits_zero(out->a, len, af_bits(af)))
        return false;
    out->af = af;
    out->len = len;
    out->text = s;
    return true;
}

/* The bogons of docs/bgp.md "Filter policy". exact: that prefix only
 * (the default route); otherwise it and everything more specific. */
typedef struct {
    const char *cidr;
    bool exact;
} bogon;

static const bogon bogons4[] = {
    {"0.0.0.0/0", true},       {"0.0.0.0/8", false},      {"10.0.0.0/8", false},
    {"100.64.0.0/10", false},  {"127.0.0.0/8", false},    {"169.254.0.0/16", false},
    {"172.16.0.0/12", false},  {"192.168.0.0/16", false}, {"224.0.0.0/4", false},
    {"240.0.0.0/4", false},
};
static const bogon bogons6[] = {
    {"::/0", true}, {"::/8", false}, {"fc00::/7", false}, {"fe80::/10", false}, {"ff00::/8", false},
};

static const bogon *bogon_table(int af, size_t *n)
{
    if (af == AF_INET) {
        *n = sizeof bogons4 / sizeof bogons4[0];
        return bogons4;
    }
    *n = sizeof bogons6 / sizeof bogons6[0];
    return bogons6;
}

static bool is_bogon(const prefix *p)
{
    size_t n;
    const bogon *t = bogon_table(p->af, &n);
    for (size_t i = 0; i < n; i++) {
        prefix b;
        if (!cidr_parse(p->af, t[i].cidr, &b))
            continue; /* cannot happen: the table is canonical (unit-tested) */
        if (t[i].exact ? (p->len == b.len && bits_equal(p->a, b.a, b.len))
                       : (p->len >= b.len && bits_equal(p->a, b.a, b.len)))
            return true;
    }
    return false;
}

bool wf_bgp_prefix_is_bogon(const char *cidr)
{
    prefix p;
    if (cidr_parse(AF_INET, cidr, &p) || cidr_parse(AF_INET6, cidr, &p))
        return is_bogon(&p);
    return false;
}

pf_kind wf_bgp_check_prefix(const char *cidr, const char *field, int *family, pf_err *err)
{
    prefix p;
    if (cidr_parse(AF_INET, cidr, &p) || cidr_parse(AF_INET6, cidr, &p)) {
        if (family != NULL)
            *family = p.af == AF_INET ? 4 : 6;
        return PF_OK;
    }
    return pf_fail(err, PF_EINVALID, "bad_cidr", field,
                   "%s: '%.60s' is not a prefix in canonical CIDR form: write the network address "
                   "with no host bits set and its length, as in 198.51.100.0/24 or 2001:db8::/32",
                   field, cidr ? cidr : "");
}

/* ---- names from users ---- */

#define NAME_MAX_OUT 64

/* Keeps ASCII letters, digits, space and ".,_-/()", replaces every other
 * byte with '_', trims spaces, cuts at NAME_MAX_OUT bytes. None of the
 * kept characters ends a string, a statement or a line, or starts a
 * comment, in any of the four dialects ('*' is not kept, so no Junos
 * comment opens). */
static void name_filter(const char *in, char out[NAME_MAX_OUT + 1])
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p && n < NAME_MAX_OUT; p++) {
        unsigned char c = *p;
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (c != '\0' && strchr(" .,_-/()", c) != NULL);
        if (c == ' ' && n == 0)
            continue;
        out[n++] = keep ? (char)c : '_';
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, NAME_MAX_OUT + 1, "unnamed");
}

/* ---- the checked session ---- */

/* a neighbour description is cut here: IOS-like CLIs (EOS) take at most
 * 80 characters */
#define DESC_MAX 80

typedef struct {
    int af;
    char v;     /* '4' or '6' */
    int maxlen; /* longest prefix ever imported: 24 or 48 */
    const wf_bgp_family *f;
    prefix *imp;
    size_t nimp;
    prefix *exp;
    size_t nexp;
    const wf_bgp_prefixes *imp_in, *exp_in;
    int max_prefix;
} fam;

typedef struct {
    const wf_bgp_session *s;
    char local_name[NAME_MAX_OUT + 1], remote_name[NAME_MAX_OUT + 1];
    char desc[200]; /* at most DESC_MAX used */
    fam fam[2]; /* [0] IPv4, [1] IPv6 */
} ctx;

static pf_kind check_family(const wf_bgp_family *f, int af, const char *tag, pf_err *err)
{
    unsigned char l[16], n[16];
    char field[32];
    snprintf(field, sizeof field, "%s.local_ip", tag);
    if (!addr_canonical(af, f->local_ip, l))
        return pf_fail(err, PF_EINVALID, "bad_address", field,
                       "%s '%.60s' is not an IP%s address in canonical form", field,
                       f->local_ip ? f->local_ip : "(none)", af == AF_INET ? "v4" : "v6");
    snprintf(field, sizeof field, "%s.neighbor_ip", tag);
    if (!addr_canonical(af, f->neighbor_ip, n))
        return pf_fail(err, PF_EINVALID, "bad_address", field,
                       "%s '%.60s' is not an IP%s address in canonical form", field,
                       f->neighbor_ip ? f->neighbor_ip : "(none)", af == AF_INET ? "v4" : "v6");
    snprintf(field, sizeof field, "%s.prefix_length", tag);
    if (f->prefix_length < 1 || f->prefix_length >= af_bits(af))
        return pf_fail(err, PF_EINVALID, "bad_prefix_length", field,
                       "%s %d is not a link prefix length: use 1..%d (31 or 127 for a point-to-point link)",
                       field, f->prefix_length, af_bits(af) - 1);
    snprintf(field, sizeof field, "%s.neighbor_ip", tag);
    if (memcmp(l, n, 16) == 0 || !bits_equal(l, n, f->prefix_length))
        return pf_fail(err, PF_EINVALID, "bad_address", field,
                       "%s %s must be another address of the link %s/%d of the local address",
                       field, f->neighbor_ip, f->local_ip, f->prefix_length);
    return PF_OK;
}

static pf_kind check_prefixes(const wf_bgp_prefixes *in, int af, const char *field, prefix **out,
                              size_t *nout, pf_err *err)
{
    *out = NULL;
    *nout = 0;
    if (in->n == 0)
        return PF_OK;
    if (in->cidr == NULL)
        return pf_fail(err, PF_EINVALID, "bad_cidr", field, "%s has %zu prefixes but no list",
                       field, in->n);
    prefix *p = calloc(in->n, sizeof *p);
    if (p == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", field, "no memory for %zu prefixes", in->n);
    for (size_t i = 0; i < in->n; i++)
        if (!cidr_parse(af, in->cidr[i], &p[i])) {
            free(p);
            return pf_fail(err, PF_EINVALID, "bad_cidr", field,
                           "%s[%zu] '%.60s' is not an IP%s prefix in canonical CIDR form "
                           "(network address with no host bits set, as in %s)",
                           field, i, in->cidr[i] ? in->cidr[i] : "(none)", af == AF_INET ? "v4" : "v6",
                           af == AF_INET ? "198.51.100.0/24" : "2001:db8::/32");
        }
    *out = p;
    *nout = in->n;
    return PF_OK;
}

static bool secret_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 80)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void ctx_free(ctx *c)
{
    for (int i = 0; i < 2; i++) {
        free(c->fam[i].imp);
        free(c->fam[i].exp);
    }
}

static pf_kind ctx_init(ctx *c, const wf_bgp_session *s, pf_err *err)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    if (s->request_id < 1)
        return pf_fail(err, PF_EINVALID, "bad_request_id", "request_id",
                       "request_id %lld is not a request id (1 or more)", s->request_id);
    if (wf_check_asn(s->local_asn, "local_asn", err) != PF_OK ||
        wf_check_asn(s->remote_asn, "remote_asn", err) != PF_OK)
        return PF_EINVALID;
    if (!s->v4.present && !s->v6.present)
        return pf_fail(err, PF_EINVALID, "no_family", "family",
                       "the session has neither an IPv4 nor an IPv6 link: allocate addresses "
                       "of at least one family first");
    if (s->md5_secret != NULL && !secret_ok(s->md5_secret))
        return pf_fail(err, PF_EINVALID, "bad_secret", "md5_secret",
                       "the MD5 secret must be 1..80 of A-Z a-z 0-9 . _ - (no space or quote)");
    if (s->max_prefix4 < 0)
        return pf_fail(err, PF_EINVALID, "bad_max_prefix", "max_prefix4",
                       "max_prefix4 %d is negative: use 0 (none registered) or more", s->max_prefix4);
    if (s->max_prefix6 < 0)
        return pf_fail(err, PF_EINVALID, "bad_max_prefix", "max_prefix6",
                       "max_prefix6 %d is negative: use 0 (none registered) or more", s->max_prefix6);
    name_filter(s->local_name, c->local_name);
    name_filter(s->remote_name, c->remote_name);
    snprintf(c->desc, sizeof c->desc, "peerflow request %lld: AS%lld %s", s->request_id,
             s->remote_asn, c->remote_name);
    c->desc[DESC_MAX] = '\0';
    for (size_t n = strlen(c->desc); n > 0 && c->desc[n - 1] == ' '; n--)
        c->desc[n - 1] = '\0';

    fam *f4 = &c->fam[0], *f6 = &c->fam[1];
    *f4 = (fam){.af = AF_INET, .v = '4', .maxlen = 24, .f = &s->v4, .imp_in = &s->import4,
                .exp_in = &s->export4, .max_prefix = s->max_prefix4};
    *f6 = (fam){.af = AF_INET6, .v = '6', .maxlen = 48, .f = &s->v6, .imp_in = &s->import6,
                .exp_in = &s->export6, .max_prefix = s->max_prefix6};
    if (s->v4.present && check_family(&s->v4, AF_INET, "v4", err) != PF_OK)
        return PF_EINVALID;
    if (s->v6.present && check_family(&s->v6, AF_INET6, "v6", err) != PF_OK)
        return PF_EINVALID;
    /* the lists are checked even for an absent family: a wrong value is
     * the caller's bug, better seen now than when the family comes */
    static const char *const names[2][2] = {{"import4", "export4"}, {"import6", "export6"}};
    for (int i = 0; i < 2; i++) {
        fam *f = &c->fam[i];
        pf_kind k = check_prefixes(f->imp_in, f->af, names[i][0], &f->imp, &f->nimp, err);
        if (k == PF_OK)
            k = check_prefixes(f->exp_in, f->af, names[i][1], &f->exp, &f->nexp, err);
        if (k != PF_OK)
            return k;
    }
    return PF_OK;
}

/* Why a registered prefix is left out of a permit list, NULL when it is in.
 * Import: never a bogon or the default route, never longer than maxlen.
 * Export: never a bogon or the default route (the peer would drop it
 * anyway; sending it is a leak). */
static const char *skip_import(const fam *f, const prefix *p)
{
    if (is_bogon(p))
        return "a bogon or the default route, never imported";
    if (p->len > f->maxlen)
        return f->af == AF_INET ? "longer than /24, never imported" : "longer than /48, never imported";
    return NULL;
}

static const char *skip_export(const prefix *p)
{
    return is_bogon(p) ? "a bogon or the default route, never exported" : NULL;
}

static size_t count_import(const fam *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nimp; i++)
        n += skip_import(f, &f->imp[i]) == NULL;
    return n;
}

static size_t count_export(const fam *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nexp; i++)
        n += skip_export(&f->exp[i]) == NULL;
    return n;
}

static const char *ipv(const fam *f)
{
    return f->af == AF_INET ? "IPv4" : "IPv6";
}

/* ---- BIRD 2 ---- */

static void bird_filters(sb *b, const ctx *c, const fam *f)
{
    long long id = c->s->request_id;
    size_t nb;
    const bogon *t = bogon_table(f->af, &nb);

    sb_add(b, "# import from AS%lld: only its registered %s prefixes, up to /%d\n",
           c->s->remote_asn, ipv(f), f->maxlen);
    sb_add(b, "filter pf_r%lld_in%c {\n", id, f->v);
    sb_add(b, "  # never the default route or a bogon (docs/bgp.md, Filter policy)\n  if net ~ [ ");
    for (size_t i = 0; i < nb; i++)
        sb_add(b, "%s%s%s", i ? ", " : "", t[i].cidr, t[i].exact ? "" : "+");
    sb_add(b, " ] then reject;\n");
    sb_add(b, "  if net.len > %d then reject;\n", f->maxlen);
    for (size_t i = 0; i < f->nimp; i++) {
        const char *why = skip_import(f, &f->imp[i]);
        if (why)
            sb_add(b, "  # %s: %s\n", f->imp[i].text, why);
    }
    if (count_import(f) == 0) {
        sb_add(b, "  # AS%lld has no registered %s prefix: nothing is imported\n", c->s->remote_asn,
               ipv(f));
    } else {
        sb_add(b, "  if net ~ [ ");
        bool first = true;
        for (size_t i = 0; i < f->nimp; i++) {
            const prefix *p = &f->imp[i];
            if (skip_import(f, p))
                continue;
            if (p->len < f->maxlen)
                sb_add(b, "%s%s{%d,%d}", first ? "" : ", ", p->text, p->len, f->maxlen);
            else
                sb_add(b, "%s%s", first ? "" : ", ", p->text);
            first = false;
        }
        sb_add(b, " ] then accept;\n");
    }
    sb_add(b, "  reject;\n}\n\n");

    sb_add(b, "# export to AS%lld: only AS%lld's registered %s prefixes, exact\n",
           c->s->remote_asn, c->s->local_asn, ipv(f));
    sb_add(b, "filter pf_r%lld_out%c {\n", id, f->v);
    for (size_t i = 0; i < f->nexp; i++) {
        const char *why = skip_export(&f->exp[i]);
        if (why)
            sb_add(b, "  # %s: %s\n", f->exp[i].text, why);
    }
    if (count_export(f) == 0) {
        sb_add(b, "  # AS%lld has no registered %s prefix: nothing is exported\n", c->s->local_asn,
               ipv(f));
    } else {
        sb_add(b, "  if net ~ [ ");
        bool first = true;
        for (size_t i = 0; i < f->nexp; i++) {
            if (skip_export(&f->exp[i]))
                continue;
            sb_add(b, "%s%s", first ? "" : ", ", f->exp[i].text);
            first = false;
        }
        sb_add(b, " ] then accept;\n");
    }
    sb_add(b, "  reject;\n}\n\n");
}

static void render_bird(sb *b, const ctx *c)
{
    const wf_bgp_session *s = c->s;
    sb_add(b, "# peerflow request %lld: BGP between AS%lld (%s) and AS%lld (%s).\n", s->request_id,
           s->local_asn, c->local_name, s->remote_asn, c->remote_name);
    sb_add(b, "# Generated by peerflow; include it from bird.conf as is (it sets no router id\n"
              "# and defines no device or kernel protocol).\n\n");
    for (int i = 0; i < 2; i++) {
        const fam *f = &c->fam[i];
        if (!f->f->present)
            continue;
        bird_filters(b, c, f);
        sb_add(b, "protocol bgp pf_r%lld_v%c {\n", s->request_id, f->v);
        sb_add(b, "  description \"%s\";\n", c->desc);
        sb_add(b, "  local %s as %lld;\n", f->f->local_ip, s->local_asn);
        sb_add(b, "  neighbor %s as %lld;\n", f->f->neighbor_ip, s->remote_asn);
        if (s->md5_secret)
            sb_add(b, "  password \"%s\";\n", s->md5_secret);
        sb_add(b, "  ipv%c {\n", f->v);
        sb_add(b, "    import filter pf_r%lld_in%c;\n", s->request_id, f->v);
        sb_add(b, "    export filter pf_r%lld_out%c;\n", s->request_id, f->v);
        if (f->max_prefix > 0)
            sb_add(b, "    import limit %d action restart;\n", f->max_prefix);
        else
            sb_add(b, "    # no max-prefix is registered for AS%lld (%s)\n", s->remote_asn, ipv(f));
        sb_add(b, "  };\n}\n\n");
    }
}

/* ---- FRR ---- */

/* "le N" is only written when it allows something longer: a /24 with
 * "le 24" is refused by some daemons and means the same as the /24. */
static void frr_prefix_lists(sb *b, const ctx *c, const fam *f)
{
    long long id = c->s->request_id;
    const char *kw = f->af == AF_INET ? "ip" : "ipv6";
    size_t nb;
    const bogon *t = bogon_table(f->af, &nb);
    int seq = 5;

    sb_add(b, "! import from AS%lld: the default route and bogons denied first, then only its\n"
              "! registered %s prefixes up to /%d, then nothing\n",
           c->s->remote_asn, ipv(f), f->maxlen);
    for (size_t i = 0; i < nb; i++, seq += 5) {
        if (t[i].exact)
            sb_add(b, "%s prefix-list pf-r%lld-in%c seq %d deny %s\n", kw, id, f->v, seq, t[i].cidr);
        else
            sb_add(b, "%s prefix-list pf-r%lld-in%c seq %d deny %s le %d\n", kw, id, f->v, seq,
                   t[i].cidr, af_bits(f->af));
    }
    for (size_t i = 0; i < f->nimp; i++) {
        const prefix *p = &f->imp[i];
        const char *why = skip_import(f, p);
        if (why)
            sb_add(b, "! %s: %s\n", p->text, why);
        else if (p->len < f->maxlen) {
            sb_add(b, "%s prefix-list pf-r%lld-in%c seq %d permit %s le %d\n", kw, id, f->v, seq,
                   p->text, f->maxlen);
            seq += 5;
        } else {
            sb_add(b, "%s prefix-list pf-r%lld-in%c seq %d permit %s\n", kw, id, f->v, seq, p->text);
            seq += 5;
        }
    }
    if (count_import(f) == 0)
        sb_add(b, "! AS%lld has no registered %s prefix: nothing is imported\n", c->s->remote_asn,
               ipv(f));
    sb_add(b, "%s prefix-list pf-r%lld-in%c seq %d deny any\n", kw, id, f->v, seq);

    /* the list always has an entry (at least "deny any"): FRR lets
     * everything through a prefix-list that exists but is empty */
    seq = 5;
    sb_add(b, "! export to AS%lld: only AS%lld's registered %s prefixes, exact\n", c->s->remote_asn,
           c->s->local_asn, ipv(f));
    for (size_t i = 0; i < f->nexp; i++) {
        const char *why = skip_export(&f->exp[i]);
        if (why) {
            sb_add(b, "! %s: %s\n", f->exp[i].text, why);
            continue;
        }
        sb_add(b, "%s prefix-list pf-r%lld-out%c seq %d permit %s\n", kw, id, f->v, seq,
               f->exp[i].text);
        seq += 5;
    }
    if (count_export(f) == 0)
        sb_add(b, "! AS%lld has no registered %s prefix: nothing is exported\n", c->s->local_asn,
               ipv(f));
    sb_add(b, "%s prefix-list pf-r%lld-out%c seq %d deny any\n", kw, id, f->v, seq);
}

static void render_frr(sb *b, const ctx *c)
{
    const wf_bgp_session *s = c->s;
    sb_add(b, "! peerflow request %lld: BGP between AS%lld (%s) and AS%lld (%s).\n", s->request_id,
           s->local_asn, c->local_name, s->remote_asn, c->remote_name);
    sb_add(b, "! Generated by peerflow; load with vtysh -f FILE.\n");
    for (int i = 0; i < 2; i++)
        if (c->fam[i].f->present)
            frr_prefix_lists(b, c, &c->fam[i]);
    sb_add(b, "router bgp %lld\n", s->local_asn);
    for (int i = 0; i < 2; i++) {
        const fam *f = &c->fam[i];
        if (!f->f->present)
            continue;
        sb_add(b, " neighbor %s remote-as %lld\n", f->f->neighbor_ip, s->remote_asn);
        sb_add(b, " neighbor %s description %s\n", f->f->neighbor_ip, c->desc);
        if (s->md5_secret)
            sb_add(b, " neighbor %s password %s\n", f->f->neighbor_ip, s->md5_secret);
    }
    for (int i = 0; i < 2; i++) {
        const fam *f = &c->fam[i], *other = &c->fam[1 - i];
        /* IPv4 unicast is activated by default for every neighbour
         * (bgp default ipv4-unicast): the IPv6 neighbour is taken out of
         * it, so each session carries only its own family */
        if (!f->f->present && !(f->af == AF_INET && other->f->present))
            continue;
        sb_add(b, " address-family ipv%c unicast\n", f->v);
        if (f->f->present) {
            const char *n = f->f->neighbor_ip;
            sb_add(b, "  neighbor %s activate\n", n);
            sb_add(b, "  neighbor %s prefix-list pf-r%lld-in%c in\n", n, s->request_id, f->v);
            sb_add(b, "  neighbor %s prefix-list pf-r%lld-out%c out\n", n, s->request_id, f->v);
            if (f->max_prefix > 0)
                sb_add(b, "  neighbor %s maximum-prefix %d restart 5\n", n, f->max_prefix);
            else
                sb_add(b, "  ! no max-prefix is registered for AS%lld (%s)\n", s->remote_asn, ipv(f));
        }
        if (f->af == AF_INET && other->f->present)
            sb_add(b, "  no neighbor %s activate\n", other->f->neighbor_ip);
        sb_add(b, " exit-address-family\n");
    }
    sb_add(b, "exit\n");
}

/* ---- Junos ---- */

static void junos_policies(sb *b, const ctx *c, const fam *f)
{
    long long id = c->s->request_id;
    size_t nb;
    const bogon *t = bogon_table(f->af, &nb);

    if (count_export(f) > 0) {
        sb_add(b, "    prefix-list pf-r%lld-out%c {\n", id, f->v);
        for (size_t i = 0; i < f->nexp; i++)
            if (!skip_export(&f->exp[i]))
                sb_add(b, "        %s;\n", f->exp[i].text);
        sb_add(b, "    }\n");
    }
    sb_add(b, "    /* import from AS%lld: only its registered %s prefixes, up to /%d */\n",
           c->s->remote_asn, ipv(f), f->maxlen);
    sb_add(b, "    policy-statement pf-r%lld-in%c {\n", id, f->v);
    sb_add(b, "        term bogons {\n            from {\n");
    for (size_t i = 0; i < nb; i++)
        sb_add(b, "                route-filter %s %s;\n", t[i].cidr, t[i].exact ? "exact" : "orlonger");
    sb_add(b, "            }\n            then reject;\n        }\n");
    sb_add(b, "        term too-long {\n            from {\n");
    sb_add(b, "                route-filter %s prefix-length-range /%d-/%d;\n",
           f->af == AF_INET ? "0.0.0.0/0" : "::/0", f->maxlen + 1, af_bits(f->af));
    sb_add(b, "            }\n            then reject;\n        }\n");
    for (size_t i = 0; i < f->nimp; i++) {
        const char *why = skip_import(f, &f->imp[i]);
        if (why)
            sb_add(b, "        /* %s: %s */\n", f->imp[i].text, why);
    }
    if (count_import(f) == 0) {
        sb_add(b, "        /* AS%lld has no registered %s prefix: nothing is imported */\n",
               c->s->remote_asn, ipv(f));
    } else {
        sb_add(b, "        term registered {\n            from {\n");
        for (size_t i = 0; i < f->nimp; i++) {
            const prefix *p = &f->imp[i];
            if (skip_import(f, p))
                continue;
            if (p->len < f->maxlen)
                sb_add(b, "                route-filter %s upto /%d;\n", p->text, f->maxlen);
            else
                sb_add(b, "                route-filter %s exact;\n", p->text);
        }
        sb_add(b, "            }\n            then accept;\n        }\n");
    }
    sb_add(b, "        term rest {\n            then reject;\n        }\n    }\n");

    sb_add(b, "    /* export to AS%lld: only AS%lld's registered %s prefixes, exact */\n",
           c->s->remote_asn, c->s->local_asn, ipv(f));
    sb_add(b, "    policy-statement pf-r%lld-out%c {\n", id, f->v);
    for (size_t i = 0; i < f->nexp; i++) {
        const char *why = skip_export(&f->exp[i]);
        if (why)
            sb_add(b, "        /* %s: %s */\n", f->exp[i].text, why);
    }
    if (count_export(f) == 0)
        sb_add(b, "        /* AS%lld has no registered %s prefix: nothing is exported */\n",
               c->s->local_asn, ipv(f));
    else
        sb_add(b, "        term registered {\n            from {\n"
                  "                family %s;\n"
                  "                prefix-list pf-r%lld-out%c;\n"
                  "            }\n            then accept;\n        }\n",
               f->af == AF_INET ? "inet" : "inet6", id, f->v);
    sb_add(b, "        term rest {\n            then reject;\n        }\n    }\n");
}

static void render_junos(sb *b, const ctx *c)
{
    const wf_bgp_session *s = c->s;
    sb_add(b, "/* peerflow request %lld: BGP between AS%lld (%s) and AS%lld (%s).\n", s->request_id,
           s->local_asn, c->local_name, s->remote_asn, c->remote_name);
    sb_add(b, " * Generated by peerflow; load with load merge terminal. The local AS%lld is\n"
              " * this router's routing-options autonomous-system. */\n",
           s->local_asn);
    sb_add(b, "policy-options {\n");
    for (int i = 0; i < 2; i++)
        if (c->fam[i].f->present)
            junos_policies(b, c, &c->fam[i]);
    sb_add(b, "}\n");
    sb_add(b, "protocols {\n    bgp {\n");
    for (int i = 0; i < 2; i++) {
        const fam *f = &c->fam[i];
        if (!f->f->present)
            continue;
        sb_add(b, "        group pf-r%lld-v%c {\n", s->request_id, f->v);
        sb_add(b, "            type external;\n");
        sb_add(b, "            description \"%s\";\n", c->desc);
        sb_add(b, "            /* local AS%lld */\n", s->local_asn);
        sb_add(b, "            local-address %s;\n", f->f->local_ip);
        sb_add(b, "            peer-as %lld;\n", s->remote_asn);
        sb_add(b, "            import pf-r%lld-in%c;\n", s->request_id, f->v);
        sb_add(b, "            export pf-r%lld-out%c;\n", s->request_id, f->v);
        if (s->md5_secret)
            sb_add(b, "            authentication-key \"%s\";\n", s->md5_secret);
        sb_add(b, "            family %s {\n                unicast {\n",
               f->af == AF_INET ? "inet" : "inet6");
        if (f->max_prefix > 0)
            sb_add(b, "                    prefix-limit {\n"
                      "                        maximum %d;\n"
                      "                        teardown idle-timeout 5;\n"
                      "                    }\n",
                   f->max_prefix);
        else
            sb_add(b, "                    /* no max-prefix is registered for AS%lld (%s) */\n",
                   s->remote_asn, ipv(f));
        sb_add(b, "                }\n            }\n");
        sb_add(b, "            neighbor %s;\n", f->f->neighbor_ip);
        sb_add(b, "        }\n");
    }
    sb_add(b, "    }\n}\n");
}

/* ---- Arista EOS ---- */

static void eos_policies(sb *b, const ctx *c, const fam *f)
{
    long long id = c->s->request_id;
    const char *kw = f->af == AF_INET ? "ip" : "ipv6";
    const char *any = f->af == AF_INET ? "0.0.0.0/0" : "::/0";
    size_t nb;
    const bogon *t = bogon_table(f->af, &nb);
    int seq = 10;

    sb_add(b, "! import from AS%lld: the default route and bogons denied first, then only its\n"
              "! registered %s prefixes up to /%d, then nothing\n",
           c->s->remote_asn, ipv(f), f->maxlen);
    sb_add(b, "%s prefix-list PF-R%lld-IN%c\n", kw, id, f->v);
    for (size_t i = 0; i < nb; i++, seq += 10) {
        if (t[i].exact)
            sb_add(b, "   seq %d deny %s\n", seq, t[i].cidr);
        else
            sb_add(b, "   seq %d deny %s le %d\n", seq, t[i].cidr, af_bits(f->af));
    }
    for (size_t i = 0; i < f->nimp; i++) {
        const prefix *p = &f->imp[i];
        const char *why = skip_import(f, p);
        if (why) {
            sb_add(b, "   ! %s: %s\n", p->text, why);
            continue;
        }
        if (p->len < f->maxlen)
            sb_add(b, "   seq %d permit %s le %d\n", seq, p->text, f->maxlen);
        else
            sb_add(b, "   seq %d permit %s\n", seq, p->text);
        seq += 10;
    }
    if (count_import(f) == 0)
        sb_add(b, "   ! AS%lld has no registered %s prefix: nothing is imported\n", c->s->remote_asn,
               ipv(f));
    sb_add(b, "   seq %d deny %s le %d\n", seq, any, af_bits(f->af));

    seq = 10;
    sb_add(b, "! export to AS%lld: only AS%lld's registered %s prefixes, exact\n", c->s->remote_asn,
           c->s->local_asn, ipv(f));
    sb_add(b, "%s prefix-list PF-R%lld-OUT%c\n", kw, id, f->v);
    for (size_t i = 0; i < f->nexp; i++) {
        const char *why = skip_export(&f->exp[i]);
        if (why) {
            sb_add(b, "   ! %s: %s\n", f->exp[i].text, why);
            continue;
        }
        sb_add(b, "   seq %d permit %s\n", seq, f->exp[i].text);
        seq += 10;
    }
    if (count_export(f) == 0)
        sb_add(b, "   ! AS%lld has no registered %s prefix: nothing is exported\n", c->s->local_asn,
               ipv(f));
    sb_add(b, "   seq %d deny %s le %d\n", seq, any, af_bits(f->af));

    static const char *const dir[2][2] = {{"IN", "in"}, {"OUT", "out"}};
    for (int d = 0; d < 2; d++) {
        sb_add(b, "route-map PF-R%lld-%s%c permit 10\n", id, dir[d][0], f->v);
        sb_add(b, "   match %s address prefix-list PF-R%lld-%s%c\n", kw, id, dir[d][0], f->v);
        sb_add(b, "route-map PF-R%lld-%s%c deny 20\n", id, dir[d][0], f->v);
    }
}

static void render_eos(sb *b, const ctx *c)
{
    const wf_bgp_session *s = c->s;
    sb_add(b, "! peerflow request %lld: BGP between AS%lld (%s) and AS%lld (%s).\n", s->request_id,
           s->local_asn, c->local_name, s->remote_asn, c->remote_name);
    sb_add(b, "! Generated by peerflow; paste in configuration mode.\n");
    for (int i = 0; i < 2; i++)
        if (c->fam[i].f->present)
            eos_policies(b, c, &c->fam[i]);
    sb_add(b, "!\nrouter bgp %lld\n", s->local_asn);
    for (int i = 0; i < 2; i++) {
        const fam *f = &c->fam[i];
        if (!f->f->present)
            continue;
        const char *n = f->f->neighbor_ip;
        sb_add(b, "   neighbor %s remote-as %lld\n", n, s->remote_asn);
        sb_add(b, "   neighbor %s description %s\n", n, c->desc);
        if (s->md5_secret)
            sb_add(b, "   neighbor %s password 0 %s\n", n, s->md5_secret);
        if (f->max_prefix > 0)
            sb_add(b, "   neighbor %s maximum-routes %d\n", n, f->max_prefix);
        else
            sb_add(b, "   ! no max-prefix is registered for AS%lld (%s): EOS's default limit applies\n",
                   s->remote_asn, ipv(f));
    }
    for (int i = 0; i < 2; i++) {
        const fam *f = &c->fam[i], *other = &c->fam[1 - i];
        if (!f->f->present && !(f->af == AF_INET && other->f->present))
            continue;
        sb_add(b, "   address-family ipv%c\n", f->v);
        if (f->f->present) {
            const char *n = f->f->neighbor_ip;
            sb_add(b, "      neighbor %s activate\n", n);
            sb_add(b, "      neighbor %s route-map PF-R%lld-IN%c in\n", n, s->request_id, f->v);
            sb_add(b, "      neighbor %s route-map PF-R%lld-OUT%c out\n", n, s->request_id, f->v);
        }
        if (f->af == AF_INET && other->f->present)
            sb_add(b, "      no neighbor %s activate\n", other->f->neighbor_ip);
    }
}

pf_kind wf_bgp_render(wf_bgp_daemon d, const wf_bgp_session *s, char **out, pf_err *err)
{
    *out = NULL;
    if ((unsigned)d >= WF_BGP__COUNT)
        return pf_fail(err, PF_EINVALID, "unknown_daemon", "daemon",
                       "unknown daemon: use one of %s", wf_bgp_daemon_list());
    if (s == NULL)
        return pf_fail(err, PF_EINTERNAL, "no_session", NULL, "no session to render");
    ctx c;
    pf_kind k = ctx_init(&c, s, err);
    if (k != PF_OK) {
        ctx_free(&c);
        return k;
    }
    sb b = {0};
    switch (d) {
    case WF_BGP_BIRD2: render_bird(&b, &c); break;
    case WF_BGP_FRR: render_frr(&b, &c); break;
    case WF_BGP_JUNOS: render_junos(&b, &c); break;
    case WF_BGP_EOS: render_eos(&b, &c); break;
    case WF_BGP__COUNT: break;
    }
    ctx_free(&c);
    if (b.oom || b.buf == NULL) {
        free(b.buf);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL,
                       "no memory for the router configuration");
    }
    *out = b.buf;
    return PF_OK;
}
