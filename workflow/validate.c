/* wf_validate: see validate.h. */
#include "workflow/validate.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pf_kind wf_parse_int(const char *s, const char *field, long long min, long long max,
                     long long *out, pf_err *err)
{
    if (s == NULL || *s == '\0')
        return pf_fail(err, PF_EINVALID, "missing", field, "%s is required", field);
    const char *p = s;
    if (*p == '-')
        p++;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q) || q - p > 19)
            return pf_fail(err, PF_EINVALID, "not_a_number", field,
                           "%s must be a whole number, not '%.40s'", field, s);
    if (*p == '\0')
        return pf_fail(err, PF_EINVALID, "not_a_number", field,
                       "%s must be a whole number, not '%.40s'", field, s);
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno != 0 || v < min || v > max)
        return pf_fail(err, PF_EINVALID, "out_of_range", field, "%s must be %lld..%lld, not %.40s",
                       field, min, max, s);
    *out = v;
    return PF_OK;
}

pf_kind wf_check_asn(long long asn, const char *field, pf_err *err)
{
    if (asn < 1 || asn > 4294967294LL || asn == 23456 || asn == 65535)
        return pf_fail(err, PF_EINVALID, "bad_asn", field,
                       "ASN %lld is not usable: use 1..4294967294, not 23456 (AS_TRANS) or 65535",
                       asn);
    return PF_OK;
}

pf_kind wf_parse_asn(const char *s, const char *field, long long *out, pf_err *err)
{
    if (s != NULL && (strncmp(s, "AS", 2) == 0 || strncmp(s, "as", 2) == 0))
        s += 2;
    long long v;
    if (s == NULL || *s == '\0')
        return pf_fail(err, PF_EINVALID, "missing", field, "%s (an AS number) is required", field);
    if (wf_parse_int(s, field, 0, 4294967295LL, &v, err) != PF_OK)
        return pf_fail(err, PF_EINVALID, "bad_asn", field,
                       "%s must be an AS number 1..4294967294, not '%.40s'", field, s);
    if (wf_check_asn(v, field, err) != PF_OK)
        return err->kind;
    *out = v;
    return PF_OK;
}

pf_kind wf_check_vlan(long long v, const char *field, pf_err *err)
{
    if (v < 1 || v > 4094)
        return pf_fail(err, PF_EINVALID, "vlan_out_of_range", field,
                       "VLAN %lld is out of range: use 1..4094", v);
    return PF_OK;
}

pf_kind wf_parse_vlan(const char *s, const char *field, int *out, pf_err *err)
{
    long long v;
    if (wf_parse_int(s, field, -1000000, 1000000, &v, err) != PF_OK)
        return pf_fail(err, PF_EINVALID, "vlan_out_of_range", field,
                       "%s must be a VLAN id 1..4094, not '%.40s'", field, s ? s : "");
    if (wf_check_vlan(v, field, err) != PF_OK)
        return err->kind;
    *out = (int)v;
    return PF_OK;
}

/* ASCII only, whatever the locale */
static bool ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool local_char(unsigned char c)
{
    return ascii_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

bool wf_email_valid(const char *s)
{
    if (s == NULL)
        return false;
    size_t len = strlen(s);
    const char *at = strchr(s, '@');
    if (len < 3 || len > WF_EMAIL_MAX || at == NULL || strchr(at + 1, '@') != NULL)
        return false;
    size_t local = (size_t)(at - s);
    if (local < 1 || local > 64 || s[0] == '.' || at[-1] == '.')
        return false;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' ? s[i + 1] == '.' : !local_char(c))
            return false;
    }
    /* DOMAIN: labels separated by single dots, at least two of them */
    int labels = 0;
    for (const char *p = at + 1;;) {
        size_t n = 0;
        while (ascii_alnum((unsigned char)p[n]) || p[n] == '-')
            n++;
        if (n < 1 || n > 63 || p[0] == '-' || p[n - 1] == '-')
            return false;
        labels++;
        p += n;
        if (*p == '\0')
            break;
        if (*p != '.')
            return false;
        p++;
    }
    return labels >= 2;
}

pf_kind wf_check_email(const char *s, const char *field, pf_err *err)
{
    if (!wf_email_valid(s))
        return pf_fail(err, PF_EINVALID, "bad_email", field,
                       "'%.80s' is not an email address peerflow can send to: use "
                       "name@domain.example (ASCII letters, digits, . _ + -)",
                       s ? s : "");
    return PF_OK;
}

pf_kind wf_parse_dpid(const char *s, char out[17], pf_err *err)
{
    char digits[17];
    size_t n = 0;
    if (s != NULL && (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0))
        s += 2;
    for (const char *p = s; p && *p; p++) {
        if (*p == ':')
            continue;
        if (!isxdigit((unsigned char)*p) || n == 16) {
            n = 0;
            s = NULL;
            break;
        }
        digits[n++] = (char)tolower((unsigned char)*p);
    }
    if (s == NULL || n == 0)
        return pf_fail(err, PF_EINVALID, "bad_dpid", "dpid",
                       "a datapath id is 1 to 16 hex digits, like 0000000000000001 or 0x1");
    memset(out, '0', 16);
    memcpy(out + 16 - n, digits, n);
    out[16] = '\0';
    return PF_OK;
}

pf_kind wf_check_endpoint(const char *s, pf_err *err)
{
    static const char *const usage =
        "endpoint must be tcp:HOST:PORT or ssl:HOST:PORT (port 1..65535) or "
        "unix:/ABSOLUTE/PATH";
    if (s == NULL)
        return pf_fail(err, PF_EINVALID, "bad_endpoint", "endpoint", "%s", usage);
    if (strncmp(s, "unix:/", 6) == 0 && strlen(s) > 6 && strlen(s) < 108 + 5)
        return PF_OK;
    if (strncmp(s, "tcp:", 4) == 0 || strncmp(s, "ssl:", 4) == 0) {
        const char *host = s + 4, *colon = strrchr(host, ':');
        long long port;
        pf_err tmp;
        bool ok = colon != NULL && colon > host && strlen(s) < 255 &&
                  wf_parse_int(colon + 1, "port", 1, 65535, &port, &tmp) == PF_OK;
        /* a host name or IPv4 address, or an IPv6 address in brackets */
        bool v6 = ok && host[0] == '[' && colon[-1] == ']';
        for (const char *p = v6 ? host + 1 : host; ok && p < (v6 ? colon - 1 : colon); p++)
            ok = isalnum((unsigned char)*p) || *p == '.' || *p == '-' || (v6 && *p == ':');
        if (ok)
            return PF_OK;
    }
    return pf_fail(err, PF_EINVALID, "bad_endpoint", "endpoint", "%s, not '%.80s'", usage, s);
}

pf_kind wf_check_name(const char *s, const char *field, bool port_chars, pf_err *err)
{
    size_t len = s ? strlen(s) : 0;
    bool ok = len >= 1 && len <= 63 && isalnum((unsigned char)s[0]);
    for (size_t i = 0; ok && i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        ok = isalnum(ch) || ch == '.' || ch == '_' || ch == '-' ||
             (port_chars && (ch == ':' || ch == '/'));
    }
    if (!ok)
        return pf_fail(err, PF_EINVALID, "bad_name", field,
                       "%s must be 1-63 letters, digits, '.', '_', '-'%s, starting with a letter or "
                       "digit, not '%.63s'",
                       field, port_chars ? ", ':' or '/'" : "", s ? s : "");
    return PF_OK;
}

pf_kind wf_parse_switch_port(const char *s, const char *field, char name[64], long long *port,
                             pf_err *err)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    if (colon == NULL || colon == s || (size_t)(colon - s) >= 64)
        return pf_fail(err, PF_EINVALID, "bad_switch_port", field,
                       "--%s must be SWITCH:PORT, like s1:3, not '%.63s'", field, s ? s : "");
    memcpy(name, s, (size_t)(colon - s));
    name[colon - s] = '\0';
    if (wf_parse_int(colon + 1, field, 1, 4294967040LL, port, err) != PF_OK)
        return pf_fail(err, PF_EINVALID, "bad_ofport", field,
                       "the port in --%s must be an OpenFlow port number 1..4294967040", field);
    return PF_OK;
}

pf_kind wf_check_display_name(const char *s, const char *field, size_t max, pf_err *err)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > max)
        return pf_fail(err, PF_EINVALID, "bad_name", field, "%s must be 1 to %zu characters",
                       field, max);
    if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1]))
        return pf_fail(err, PF_EINVALID, "bad_name", field,
                       "%s must not start or end with a space", field);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return pf_fail(err, PF_EINVALID, "bad_name", field,
                           "%s must not contain control characters (tabs, newlines)", field);
    return PF_OK;
}

pf_kind wf_check_choice(const char *s, const char *field, const char *const *choices,
                        pf_err *err)
{
    char list[200] = "";
    for (int i = 0; choices[i]; i++) {
        if (s != NULL && strcmp(s, choices[i]) == 0)
            return PF_OK;
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    return pf_fail(err, PF_EINVALID, "bad_choice", field, "%s must be one of %s, not '%.40s'",
                   field, list, s ? s : "");
}
