/* pf_log: see pf_log.h. */
#include "common/pf_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static bool log_json; /* set once at start, before any thread */

void pf_log_set_json(bool json)
{
    log_json = json;
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
    size_t n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (n == 0 || p[0] > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
        (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
        return 0; /* overlong, a surrogate, beyond U+10FFFF */
    return n;
}

/* Appends s to buf as JSON string content: quotes, backslashes and
 * control characters escaped, valid UTF-8 kept, any other byte written as
 * U+FFFD, so the line is valid JSON (and one line) whatever the message
 * holds. */
static size_t json_escape(char *buf, size_t at, size_t n, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p && at + 7 < n;) {
        size_t u = *p >= 0x80 ? utf8_len(p) : 0;
        if (*p == '"' || *p == '\\') {
            buf[at++] = '\\';
            buf[at++] = (char)*p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            at += (size_t)snprintf(buf + at, n - at, "\\u%04x", *p++);
        } else if (*p < 0x80) {
            buf[at++] = (char)*p++;
        } else if (u > 0) {
            memcpy(buf + at, p, u);
            at += u;
            p += u;
        } else {
            at += (size_t)snprintf(buf + at, n - at, "\\ufffd");
            p++;
        }
    }
    buf[at] = '\0';
    return at;
}

void pf_log_format(char *buf, size_t n, bool json, const char *level, const char *component,
                   const char *msg)
{
    if (!json) {
        snprintf(buf, n, "%s: %s\n", component, msg);
        return;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[40];
    size_t tl = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + tl, sizeof ts - tl, ".%03dZ", (int)(tv.tv_usec / 1000));
    size_t at = (size_t)snprintf(buf, n, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"", ts,
                                 level);
    if (at >= n)
        return;
    at = json_escape(buf, at, n, component);
    at += (size_t)snprintf(buf + at, n - at, "\",\"msg\":\"");
    if (at >= n)
        return;
    at = json_escape(buf, at, n, msg);
    snprintf(buf + at, n - at, "\"}\n");
}

static void emit(FILE *out, const char *level, const char *component, const char *fmt,
                 va_list ap)
{
    char msg[2048], line[16384];
    vsnprintf(msg, sizeof msg, fmt, ap);
    pf_log_format(line, sizeof line, log_json, level, component, msg);
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] != '\n') /* cut short: still one line */
        line[len - 1] = '\n';
    fputs(line, out);
    fflush(out);
}

void pf_log_info(const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(stdout, "info", component, fmt, ap);
    va_end(ap);
}

void pf_log_error(const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(stderr, "error", component, fmt, ap);
    va_end(ap);
}
