/* wf_mailer: see mailer.h and docs/mail.md. */
#include "workflow/mailer.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/outbox.h"
#include "workflow/links.h"
#include "workflow/notify.h"
#include "workflow/tokens.h"
#include "workflow/validate.h"

#define BATCH 16

/* ------------------------------------------------------------ format */

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_add(sbuf *s, const char *p, size_t n)
{
    if (s->oom)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (nb == NULL) {
            s->oom = true;
            return;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
}

static void sb_str(sbuf *s, const char *p)
{
    sb_add(s, p, strlen(p));
}

static bool is_ascii_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* A Message-ID (inside its <>) that can go into a header as is.
 * Addresses are checked by wf_email_valid, the check input uses too. */
static bool header_safe(const char *s)
{
    return s && *s && strlen(s) < 256 && is_ascii_printable(s) && strpbrk(s, " <>\",;") == NULL;
}

/* Subject: plain when ASCII, else RFC 2047 encoded-words ("B"), each at
 * most 75 characters, split only between UTF-8 characters, folded. Control
 * characters become spaces (no header injection). */
static void subject_header(sbuf *s, const char *subject)
{
    size_t n = strlen(subject);
    char *clean = malloc(n + 1);
    if (clean == NULL) {
        s->oom = true;
        return;
    }
    bool ascii = true;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)subject[i];
        clean[i] = (i < n && (c < 0x20 || c == 0x7f)) ? ' ' : (char)c;
        if (c >= 0x80)
            ascii = false;
    }
    sb_str(s, "Subject: ");
    if (ascii) {
        sb_str(s, clean);
    } else {
        /* RFC 2047: a line holding encoded-words is at most 76
         * characters: after "Subject: " 39 bytes (52 base64 + 12), on
         * each folded line 45 bytes (" " + 60 + 12) */
        size_t i = 0;
        bool first = true;
        while (i < n) {
            size_t max = first ? 39 : 45;
            size_t take = n - i < max ? n - i : max;
            /* do not cut a UTF-8 sequence: back up to a lead byte */
            while (take > 0 && i + take < n && ((unsigned char)clean[i + take] & 0xc0) == 0x80)
                take--;
            if (take == 0)
                take = n - i < max ? n - i : max;
            char enc[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];
            sodium_bin2base64(enc, sizeof enc, (const unsigned char *)clean + i, take,
                              sodium_base64_VARIANT_ORIGINAL);
            if (!first)
                sb_str(s, "\r\n ");
            sb_str(s, "=?UTF-8?B?");
            sb_str(s, enc);
            sb_str(s, "?=");
            first = false;
            i += take;
        }
    }
    sb_str(s, "\r\n");
    free(clean);
}

/* Body lines: does it need quoted-printable (non-ASCII, a long line, or
 * a control character other than tab)? */
static bool needs_qp(const char *b)
{
    size_t line = 0;
    for (const unsigned char *p = (const unsigned char *)b; *p; p++) {
        if (*p == '\n') {
            line = 0;
            continue;
        }
        if (*p >= 0x80 || (*p < 0x20 && *p != '\t' && *p != '\r') || *p == 0x7f)
            return true;
        if (++line > 998)
            return true;
    }
    return false;
}

static void body_7bit(sbuf *s, const char *b)
{
    for (const char *p = b; *p;) {
        size_t n = strcspn(p, "\r\n");
        sb_add(s, p, n);
        sb_str(s, "\r\n");
        p += n;
        if (*p == '\r')
            p++;
        if (*p == '\n')
            p++;
    }
}

/* RFC 2045 quoted-printable, lines of at most 76 characters. */
static void body_qp(sbuf *s, const char *b)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const char *p = b; *p;) {
        size_t n = strcspn(p, "\r\n"), col = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            char enc[4];
            bool last = i + 1 == n;
            if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
                enc[0] = (char)c;
                enc[1] = '\0';
            } else {
                enc[0] = '=';
                enc[1] = hex[c >> 4];
                enc[2] = hex[c & 15];
                enc[3] = '\0';
            }
            size_t el = strlen(enc);
            if (col + el > 75) { /* leave room for the soft break '=' */
                sb_str(s, "=\r\n");
                col = 0;
            }
            sb_add(s, enc, el);
            col += el;
        }
        sb_str(s, "\r\n");
        p += n;
        if (*p == '\r')
            p++;
        if (*p == '\n')
            p++;
    }
}

static void date_header(sbuf *s, long long when)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)when;
    struct tm tm;
    gmtime_r(&t, &tm);
    char line[80];
    snprintf(line, sizeof line, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
             days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    sb_str(s, line);
}

/* The sender: the same check as every address, except that the domain
 * may be "localhost" (the default peerflow@localhost of a fresh set-up;
 * RFC 2606 reserves the name). */
static bool sender_valid(const char *from)
{
    if (wf_email_valid(from))
        return true;
    const char *at = from ? strrchr(from, '@') : NULL;
    char probe[WF_EMAIL_MAX + 32];
    return at != NULL && strcmp(at, "@localhost") == 0 &&
           snprintf(probe, sizeof probe, "%s.localdomain", from) < (int)sizeof probe &&
           wf_email_valid(probe);
}

pf_kind wf_mail_format(const wf_mail *m, char **out, pf_err *err)
{
    *out = NULL;
    json_t *rcpt = json_loads(m->recipients ? m->recipients : "", 0, NULL);
    size_t nr = json_array_size(rcpt);
    if (nr == 0) {
        json_decref(rcpt);
        return pf_fail(err, PF_EINVALID, "bad_mail_header", "recipients",
                       "a message needs at least one recipient");
    }
    for (size_t i = 0; i < nr; i++)
        if (!wf_email_valid(json_string_value(json_array_get(rcpt, i)))) {
            json_decref(rcpt);
            return pf_fail(err, PF_EINVALID, "bad_mail_header", "recipients",
                           "recipient %zu is not an address peerflow can send to (fix the "
                           "network's contacts)",
                           i + 1);
        }
    char inner[256] = "";
    size_t mlen = m->message_id ? strlen(m->message_id) : 0;
    if (mlen > 2 && mlen < sizeof inner && m->message_id[0] == '<' &&
        m->message_id[mlen - 1] == '>')
        snprintf(inner, sizeof inner, "%.*s", (int)(mlen - 2), m->message_id + 1);
    if (!sender_valid(m->from) || !header_safe(inner) || strchr(inner, '@') == NULL) {
        json_decref(rcpt);
        return pf_fail(err, PF_EINVALID, "bad_mail_header", NULL,
                       "the sender or the Message-ID is malformed");
    }
    sbuf s = {0};
    date_header(&s, m->date);
    sb_str(&s, "From: ");
    sb_str(&s, m->from);
    sb_str(&s, "\r\nTo: ");
    size_t col = 4;
    for (size_t i = 0; i < nr; i++) {
        const char *a = json_string_value(json_array_get(rcpt, i));
        if (i > 0) {
            sb_str(&s, ",");
            if (col + strlen(a) + 2 > 76) {
                sb_str(&s, "\r\n");
                col = 0;
            }
            sb_str(&s, " ");
            col += 2;
        }
        sb_str(&s, a);
        col += strlen(a);
    }
    json_decref(rcpt);
    sb_str(&s, "\r\n");
    subject_header(&s, m->subject ? m->subject : "");
    sb_str(&s, "Message-ID: ");
    sb_str(&s, m->message_id);
    sb_str(&s, "\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n");
    bool qp = needs_qp(m->body ? m->body : "");
    sb_str(&s, qp ? "Content-Transfer-Encoding: quoted-printable\r\n"
                  : "Content-Transfer-Encoding: 7bit\r\n");
    /* RFC 3834: automated mail, so autoresponders stay quiet */
    sb_str(&s, "Auto-Submitted: auto-generated\r\n\r\n");
    if (qp)
        body_qp(&s, m->body);
    else
        body_7bit(&s, m->body ? m->body : "");
    if (s.oom) {
        free(s.buf);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    *out = s.buf;
    return PF_OK;
}

/* ---------------------------------------------------------- transport */

typedef struct {
    bool file;
    char dir[4096];
    CURL *curl;
    char url[1024];   /* without our ?options: what libcurl gets */
    char where[300];  /* HOST:PORT, for messages (never the credentials) */
    long use_ssl;
    int timeout;
    char errbuf[CURL_ERROR_SIZE];
} transport;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static pf_kind bad_url(pf_err *err, const char *why)
{
    return pf_fail(err, PF_EINVALID, "bad_smtp_url", "smtp_url",
                   "PEERFLOW_SMTP_URL %s: use smtp://HOST:PORT (TLS by STARTTLS, required), "
                   "smtp://HOST:PORT?tls=none (cleartext, a local relay only), "
                   "smtps://HOST:PORT or file:DIR",
                   why);
}

/* The URL's query: only tls=required (the default) and tls=none are
 * known; anything else is refused rather than ignored, so a typo cannot
 * silently weaken (or fail to weaken) the transport. */
static pf_kind parse_options(const char *q, bool *cleartext, pf_err *err)
{
    *cleartext = false;
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", q) >= (int)sizeof buf)
        return bad_url(err, "has too long options");
    char *save = NULL;
    for (char *o = strtok_r(buf, "&", &save); o; o = strtok_r(NULL, "&", &save)) {
        if (strcmp(o, "tls=required") == 0) {
            *cleartext = false;
        } else if (strcmp(o, "tls=none") == 0) {
            *cleartext = true;
        } else {
            char why[320];
            snprintf(why, sizeof why, "has an unknown option '%.200s' (known: tls=required, "
                                      "tls=none)", o);
            return bad_url(err, why);
        }
    }
    return PF_OK;
}

static pf_kind transport_open(transport *t, const wf_mailer_config *cfg, pf_err *err)
{
    memset(t, 0, sizeof *t);
    const char *u = cfg->smtp_url;
    if (u == NULL || *u == '\0')
        return bad_url(err, "is not set");
    if (!sender_valid(cfg->mail_from))
        return pf_fail(err, PF_EINVALID, "bad_mail_from", "mail_from",
                       "PEERFLOW_MAIL_FROM '%.80s' is not an address peerflow can send from: "
                       "use name@domain.example",
                       cfg->mail_from ? cfg->mail_from : "");
    t->timeout = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : 30;
    if (strncmp(u, "file:", 5) == 0) {
        const char *d = u + 5;
        if (strncmp(d, "//", 2) == 0)
            d += 2;
        if (*d == '\0' || snprintf(t->dir, sizeof t->dir, "%s", d) >= (int)sizeof t->dir)
            return bad_url(err, "names no directory");
        t->file = true;
        if (mkdir(t->dir, 0750) != 0 && errno != EEXIST)
            return pf_fail(err, PF_EUNAVAIL, "mail_delivery_failed", "smtp_url",
                           "cannot create mail directory %s: %s", t->dir, strerror(errno));
        return PF_OK;
    }
    bool smtps = strncmp(u, "smtps://", 8) == 0;
    if (!smtps && strncmp(u, "smtp://", 7) != 0)
        return bad_url(err, "has an unknown scheme");
    if (strchr(u, '#') != NULL)
        return bad_url(err, "has a #fragment");
    const char *q = strchr(u, '?');
    size_t base = q ? (size_t)(q - u) : strlen(u);
    if (base >= sizeof t->url)
        return bad_url(err, "is too long");
    memcpy(t->url, u, base);
    t->url[base] = '\0';
    bool cleartext = false;
    if (q && parse_options(q + 1, &cleartext, err))
        return err->kind;
    const char *auth = u + (smtps ? 8 : 7);
    size_t alen = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', alen);
    const char *host = at ? at + 1 : auth;
    snprintf(t->where, sizeof t->where, "%.*s", (int)(alen - (size_t)(host - auth)), host);
    if (t->where[0] == '\0')
        return bad_url(err, "names no host");
    if (smtps && cleartext)
        return bad_url(err, "says smtps:// (TLS from the start) and tls=none");
    if (cleartext && at != NULL)
        return bad_url(err, "has credentials and tls=none: a password must not cross the "
                            "network in clear");
    /* smtps: TLS from the start. smtp: STARTTLS, required, unless the URL
     * says tls=none: a man in the middle who strips STARTTLS from the
     * server's EHLO answer gets an error, never the mail in clear. */
    t->use_ssl = cleartext ? CURLUSESSL_NONE : CURLUSESSL_ALL;
    pthread_once(&curl_once, curl_init_once);
    t->curl = curl_easy_init();
    if (t->curl == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "libcurl: out of memory");
    return PF_OK;
}

static void transport_close(transport *t)
{
    if (t->curl)
        curl_easy_cleanup(t->curl);
    t->curl = NULL;
}

/* What became of one delivery attempt. */
typedef enum {
    SENT,
    RETRY,  /* may work later (4xx, a broken connection): retried, dead after max_attempts */
    DEAD,   /* can never work as it is (5xx to the recipient or the message, unencodable):
               a dead letter at once */
    SERVER  /* the transport or its configuration (unreachable, TLS, authentication,
               sender refused, no key): retried, never dead - it is not this message's fault */
} outcome;

/* file:DIR - ID-MESSAGEID.eml, written to a temporary name, synced, then
 * renamed: a reader never sees half a message, and a resend after a crash
 * replaces the same file. */
static bool deliver_file(transport *t, long long id, const char *mid, const char *text,
                         char *why, size_t whylen)
{
    char name[300], path[4500], tmp[4600];
    size_t k = 0;
    for (const char *p = mid; *p && k + 1 < sizeof name; p++)
        if (*p != '<' && *p != '>')
            name[k++] = (strchr("._@-+", *p) || (*p >= '0' && *p <= '9') ||
                         (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
                            ? *p
                            : '_';
    name[k] = '\0';
    snprintf(path, sizeof path, "%s/%lld-%s.eml", t->dir, id, name);
    snprintf(tmp, sizeof tmp, "%s/.tmp-%lld-%ld.eml", t->dir, id, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(why, whylen, "cannot write in %.300s: %s", t->dir, strerror(errno));
        return false;
    }
    size_t len = strlen(text), off = 0;
    bool ok = true;
    while (ok && off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        if (ok)
            off += (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        snprintf(why, whylen, "cannot write in %.300s: %s", t->dir, strerror(errno));
        unlink(tmp);
    }
    return ok;
}

struct reader {
    const char *p;
    size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
    struct reader *r = arg;
    size_t n = size * nmemb < r->left ? size * nmemb : r->left;
    memcpy(buf, r->p, n);
    r->p += n;
    r->left -= n;
    return n;
}

/* SMTP through libcurl. libcurl escapes lines that start with "." (it
 * dot-stuffs the DATA stream itself; tests/integration/test_mail.c checks
 * such a line arrives intact). *down: the rest of the batch would fail
 * the same way (the server, not this message). */
static outcome deliver_smtp(transport *t, const char *from, const char *recipients,
                            const char *text, char *why, size_t whylen, bool *down)
{
    CURL *c = t->curl;
    curl_easy_reset(c);
    json_t *rcpt = json_loads(recipients, 0, NULL);
    struct curl_slist *list = NULL;
    bool built = json_array_size(rcpt) > 0;
    for (size_t i = 0; built && i < json_array_size(rcpt); i++) {
        char a[WF_EMAIL_MAX + 3];
        const char *addr = json_string_value(json_array_get(rcpt, i));
        /* wf_mail_format checked every address already: this cannot cut */
        built = addr && snprintf(a, sizeof a, "<%s>", addr) < (int)sizeof a;
        struct curl_slist *nl = built ? curl_slist_append(list, a) : NULL;
        built = nl != NULL;
        if (built)
            list = nl;
    }
    json_decref(rcpt);
    char sender[WF_EMAIL_MAX + 3];
    if (!built || snprintf(sender, sizeof sender, "<%s>", from) >= (int)sizeof sender) {
        curl_slist_free_all(list);
        snprintf(why, whylen, "cannot build the SMTP envelope (out of memory?)");
        return RETRY;
    }
    struct reader r = {text, strlen(text)};
    t->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_USE_SSL, t->use_ssl);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, sender);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, list);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r.left);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(t->timeout < 10 ? t->timeout : 10));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)t->timeout);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(list);
    if (rc == CURLE_OK)
        return SENT;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    const char *detail = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_USE_SSL_FAILED) {
        *down = true;
        snprintf(why, whylen,
                 "SMTP %.200s: TLS is required but the server offers no STARTTLS (%.100s): "
                 "enable TLS on the server or use smtps://; for a local relay only, allow "
                 "cleartext with ?tls=none in PEERFLOW_SMTP_URL",
                 t->where, detail);
        return SERVER;
    }
    snprintf(why, whylen, "SMTP %.200s: %.200s%s%.0ld", t->where, detail,
             code ? ", server said " : "", code);
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
        rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_LOGIN_DENIED ||
        rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION) {
        *down = true;
        return SERVER;
    }
    if (code >= 500 && code < 600) {
        /* RFC 5321 4.2.1: a 5xx means "do not repeat as is". To RCPT TO
         * (this recipient) or to the message (DATA, or its end: all of it
         * was read) that is about this message: dead at once. To MAIL FROM
         * or anything before it, it is about our sender or the server:
         * every message would get it, so it is not a dead letter. */
        bool about_message = strncmp(t->errbuf, "RCPT failed", 11) == 0 ||
                             strncmp(t->errbuf, "DATA failed", 11) == 0 ||
                             (r.left == 0 && strncmp(t->errbuf, "MAIL failed", 11) != 0);
        if (about_message)
            return DEAD;
        *down = true;
        return SERVER;
    }
    return RETRY;
}

/* ------------------------------------------------------------- the run */

struct claim_ctx {
    const wf_env *env;
    const wf_mailer_config *cfg;
    int max;
    db_outbox_item *items;
    int n;
    char (*links)[WF_TOKEN_TEXT_MAX]; /* per item: the token, or "" */
    bool *skip;                       /* per item: failed while claiming */
    bool *skip_dead;                  /* ... and was made a dead letter */
};

static int backoff(const wf_mailer_config *cfg, int attempts)
{
    long long base = cfg->retry_base_seconds > 0 ? cfg->retry_base_seconds : 60;
    long long cap = cfg->retry_max_seconds > 0 ? cfg->retry_max_seconds : 21600;
    long long d = base;
    for (int i = 1; i < attempts && d < cap; i++)
        d *= 2;
    return (int)(d < cap ? d : cap);
}

static int max_attempts(const wf_mailer_config *cfg)
{
    return cfg->max_attempts > 0 ? cfg->max_attempts : WF_MAIL_MAX_ATTEMPTS_DEFAULT;
}

static void claim_reset(struct claim_ctx *x)
{
    db_outbox_items_free(x->items, x->n);
    if (x->links)
        sodium_memzero(x->links, (size_t)x->n * sizeof *x->links);
    free(x->links);
    free(x->skip);
    free(x->skip_dead);
    x->items = NULL;
    x->links = NULL;
    x->skip = NULL;
    x->skip_dead = NULL;
    x->n = 0;
}

/* Claims a batch and signs the links of the approval messages in it, in
 * one transaction: the token's key binding commits with the claim. */
static pf_kind claim_tx(db_conn *c, void *v, pf_err *err)
{
    struct claim_ctx *x = v;
    claim_reset(x);
    int lease = x->cfg->lease_seconds > 0 ? x->cfg->lease_seconds : 120;
    int timeout = x->cfg->timeout_seconds > 0 ? x->cfg->timeout_seconds : 30;
    if (lease < 2 * timeout)
        lease = 2 * timeout; /* never lease less than a delivery may take */
    if (db_outbox_claim(c, x->max, lease, &x->items, &x->n, err))
        return err->kind;
    if (x->n == 0)
        return PF_OK;
    x->links = calloc((size_t)x->n, sizeof *x->links);
    x->skip = calloc((size_t)x->n, sizeof *x->skip);
    x->skip_dead = calloc((size_t)x->n, sizeof *x->skip_dead);
    if (x->links == NULL || x->skip == NULL || x->skip_dead == NULL)
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    for (int i = 0; i < x->n; i++) {
        db_outbox_item *m = &x->items[i];
        if (!m->has_token)
            continue;
        pf_err e = {0};
        pf_kind k = PF_OK;
        wf_link_delivery d = {.token_id = m->token_id,
                              .request_id = m->request_id,
                              .network_id = m->network_id,
                              .recipients = m->recipients};
        if (x->cfg->keys == NULL)
            k = pf_fail(&e, PF_EINVALID, "no_key_dir", "key_dir",
                        "cannot sign the approval link: no key directory (set PEERFLOW_KEY_DIR)");
        else
            k = wf_link_token_for_delivery(x->env, x->cfg->keys, &d, x->links[i], &e);
        if (k == PF_OK)
            continue;
        if (k == PF_EUNAVAIL || strcmp(e.code, "database_error") == 0) {
            *err = e;
            return k;
        }
        x->skip[i] = true;
        /* a link that is not the recipient's is never sent, nor retried */
        x->skip_dead[i] = strcmp(e.code, "link_not_for_recipient") == 0;
        if (x->skip_dead[i] ? db_outbox_mark_dead(c, m->id, e.message, err)
                            : db_outbox_mark_failed(c, m->id, backoff(x->cfg, m->attempts),
                                                    e.message, err))
            return err->kind;
    }
    return PF_OK;
}

struct mark_ctx {
    long long id;
    outcome o;
    int retry;
    const char *error;
};

static pf_kind mark_tx(db_conn *c, void *v, pf_err *err)
{
    struct mark_ctx *x = v;
    switch (x->o) {
    case SENT:
        return db_outbox_mark_delivered(c, x->id, err);
    case DEAD:
        return db_outbox_mark_dead(c, x->id, x->error, err);
    default:
        return db_outbox_mark_failed(c, x->id, x->retry, x->error, err);
    }
}

/* Records a delivery's outcome. A message the server accepted that is not
 * marked delivered is sent again when its lease runs out, and the rest of
 * the batch waits for that too; so while the database is unavailable (a
 * restart, a failover: the connection finds the new primary) the mark is
 * tried again every half second for up to half the lease, well before
 * any other worker may claim the message. Marking twice is harmless (the
 * same values). Only then does it give up to at-least-once delivery. */
static pf_kind mark_outcome(const wf_env *env, const db_scope *scope, struct mark_ctx *mk,
                            const wf_mailer_config *cfg, pf_err *err)
{
    int lease = cfg->lease_seconds > 0 ? cfg->lease_seconds : 120;
    for (int waited_ms = 0;; waited_ms += 500) {
        pf_kind rc = db_run_tx(env->db, scope, mark_tx, mk, err);
        if (rc != PF_EUNAVAIL || strcmp(err->code, "database_unavailable") != 0 ||
            waited_ms >= lease * 500)
            return rc;
        struct timespec half = {0, 500 * 1000 * 1000};
        nanosleep(&half, NULL);
    }
}

/* The body with the link in place of the placeholder (first occurrence). */
static char *with_link(const char *body, const char *base_url, const char *token)
{
    const char *at = strstr(body, WF_NOTIFY_LINK_PLACEHOLDER);
    if (at == NULL || token[0] == '\0')
        return strdup(body);
    size_t pre = (size_t)(at - body), ph = strlen(WF_NOTIFY_LINK_PLACEHOLDER);
    size_t n = pre + strlen(base_url) + 3 + strlen(token) + strlen(at + ph) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%.*s%s/t/%s%s", (int)pre, body, base_url, token, at + ph);
    return out;
}

pf_kind wf_mailer_run_once(const wf_env *env, const wf_mailer_config *cfg, int max_messages,
                           int *delivered, pf_err *err)
{
    *delivered = 0;
    if (max_messages <= 0)
        max_messages = 100;
    transport t;
    if (transport_open(&t, cfg, err))
        return err->kind;
    db_scope scope = db_scope_system();
    int claimed = 0, failures = 0, dead = 0;
    char last[600] = "";
    pf_kind rc = PF_OK;
    bool down = false;
    while (rc == PF_OK && claimed < max_messages && !down) {
        struct claim_ctx x = {.env = env, .cfg = cfg,
                              .max = max_messages - claimed < BATCH ? max_messages - claimed
                                                                    : BATCH};
        rc = db_run_tx(env->db, &scope, claim_tx, &x, err);
        if (rc != PF_OK || x.n == 0) {
            claim_reset(&x);
            break;
        }
        claimed += x.n;
        for (int i = 0; i < x.n && rc == PF_OK; i++) {
            db_outbox_item *m = &x.items[i];
            if (x.skip[i]) {
                x.skip_dead[i] ? dead++ : failures++;
                snprintf(last, sizeof last, "message %lld: approval link not signed%s", m->id,
                         x.skip_dead[i] ? " (dead letter: it is not the recipient's)" : "");
                continue;
            }
            char why[700] = "";
            outcome o = RETRY;
            char *body = with_link(m->body, env->base_url, x.links[i]);
            char *text = NULL;
            pf_err fe = {0};
            wf_mail mail = {.from = cfg->mail_from,
                            .recipients = m->recipients,
                            .subject = m->subject,
                            .body = body ? body : "",
                            .message_id = m->message_id,
                            .date = m->created};
            if (body == NULL) {
                snprintf(why, sizeof why, "out of memory");
            } else if (wf_mail_format(&mail, &text, &fe) != PF_OK) {
                /* the same bytes every time: retrying cannot help (the
                 * sender was checked when the transport opened) */
                o = DEAD;
                snprintf(why, sizeof why, "cannot encode the message: %s", fe.message);
            } else if (down) {
                o = SERVER;
                snprintf(why, sizeof why, "not tried: %.500s", last);
            } else if (t.file) {
                o = deliver_file(&t, m->id, m->message_id, text, why, sizeof why) ? SENT
                                                                                  : SERVER;
            } else {
                o = deliver_smtp(&t, cfg->mail_from, m->recipients, text, why, sizeof why,
                                 &down);
            }
            if (body)
                sodium_memzero(body, strlen(body)); /* it held a usable link */
            if (text)
                sodium_memzero(text, strlen(text));
            free(body);
            free(text);
            const char *error = why;
            char gave_up[800];
            if (o == RETRY && m->attempts >= max_attempts(cfg)) {
                snprintf(gave_up, sizeof gave_up, "gave up after %d attempts: %s", m->attempts,
                         why);
                error = gave_up;
                o = DEAD;
            }
            struct mark_ctx mk = {.id = m->id, .o = o, .retry = backoff(cfg, m->attempts),
                                  .error = error};
            rc = mark_outcome(env, &scope, &mk, cfg, err);
            if (o == SENT && rc == PF_OK)
                (*delivered)++;
            if (o != SENT) {
                o == DEAD ? dead++ : failures++;
                snprintf(last, sizeof last, "%s%.550s", o == DEAD ? "dead letter: " : "", error);
            }
        }
        claim_reset(&x);
    }
    transport_close(&t);
    if (rc != PF_OK)
        return rc;
    if (failures || dead)
        return pf_fail(err, PF_EUNAVAIL, "mail_delivery_failed", NULL,
                       "%d message%s not delivered (will retry), %d dead letter%s (never "
                       "retried, see peerflow report mail_queue): %s",
                       failures, failures == 1 ? "" : "s", dead, dead == 1 ? "" : "s", last);
    return PF_OK;
}
