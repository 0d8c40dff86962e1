/* web_template: see template.h. */
#include "web/template.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tpl {
    char *name;
    char *text;
};

struct web_templates {
    struct tpl *v;
    size_t n, cap;
};

enum { MAX_DEPTH = 16 };

web_templates *web_templates_new(void)
{
    return calloc(1, sizeof(web_templates));
}

bool web_templates_add(web_templates *t, const char *name, const char *text)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct tpl *v = realloc(t->v, cap * sizeof *v);
        if (v == NULL)
            return false;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n].name = strdup(name);
    t->v[t->n].text = strdup(text);
    if (t->v[t->n].name == NULL || t->v[t->n].text == NULL)
        return false;
    t->n++;
    return true;
}

void web_templates_free(web_templates *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].name);
        free(t->v[i].text);
    }
    free(t->v);
    free(t);
}

web_templates *web_templates_load(const char *dir, pf_err *err)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        pf_fail(err, PF_EINTERNAL, "no_templates", NULL,
                "cannot open the template directory %s: %s (set PEERFLOW_TEMPLATES_DIR)", dir,
                strerror(errno));
        return NULL;
    }
    web_templates *t = web_templates_new();
    struct dirent *e;
    bool ok = t != NULL;
    while (ok && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".html") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        char *buf = NULL;
        size_t cap = 0;
        FILE *m = open_memstream(&buf, &cap);
        char chunk[4096];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
            fwrite(chunk, 1, got, m);
        fclose(f);
        fclose(m);
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(len - 5), e->d_name);
        ok = web_templates_add(t, name, buf);
        free(buf);
    }
    closedir(d);
    if (!ok) {
        web_templates_free(t);
        pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory loading templates");
        return NULL;
    }
    return t;
}

static const char *find(const web_templates *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].name, name) == 0)
            return t->v[i].text;
    return NULL;
}

void web_html_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* "2026-12-01T08:15:23.195316+00:00", "...Z", "2026-12-01 08:15:23+00"
 * (jansson of PostgreSQL's JSON, or its text) -> Unix seconds. */
static bool parse_timestamp(const char *s, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(s, "%Y-%m-%d", &tm);
    if (p == NULL || (*p != 'T' && *p != ' '))
        return false;
    p = strptime(p + 1, "%H:%M:%S", &tm);
    if (p == NULL)
        return false;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    long off = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, h = 0, m = 0, n = 0;
        if (sscanf(p + 1, "%2d%n", &h, &n) != 1)
            return false;
        p += 1 + n;
        if (*p == ':')
            p++;
        if (*p >= '0' && *p <= '9') {
            if (sscanf(p, "%2d%n", &m, &n) != 1)
                return false;
            p += n;
        }
        off = sign * (h * 3600L + m * 60L);
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    *out = timegm(&tm) - off;
    return true;
}

void web_time_html(FILE *out, const char *s, time_t now)
{
    time_t t;
    if (s == NULL)
        return;
    if (!parse_timestamp(s, &t)) {
        web_html_escape(out, s);
        return;
    }
    struct tm tm;
    gmtime_r(&t, &tm);
    char iso[32], human[32];
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    strftime(human, sizeof human, "%Y-%m-%d %H:%M UTC", &tm);
    long long d = (long long)(now - t);
    bool future = d < 0;
    long long a = future ? -d : d;
    char rel[48];
    if (a < 60)
        snprintf(rel, sizeof rel, future ? "in under a minute" : "just now");
    else if (a < 3600)
        snprintf(rel, sizeof rel, future ? "in %lld min" : "%lld min ago", a / 60);
    else if (a < 48 * 3600)
        snprintf(rel, sizeof rel, future ? "in %lld h" : "%lld h ago", a / 3600);
    else if (a < 60 * 86400LL)
        snprintf(rel, sizeof rel, future ? "in %lld days" : "%lld days ago", a / 86400);
    else
        snprintf(rel, sizeof rel, "%s", human); /* long ago: the date says more */
    /* every part is built here from digits and fixed words: nothing to escape */
    fprintf(out, "<time datetime=\"%s\" title=\"%s\">%s</time>", iso, human, rel);
}

struct render {
    const web_templates *t;
    FILE *out;
    json_t *stack[MAX_DEPTH];
    int depth;
    pf_err *err;
    bool failed;
};

/* Looks a dotted name up through the context stack. */
static json_t *lookup(struct render *r, const char *name, size_t len)
{
    if (len == 1 && name[0] == '.')
        return r->stack[r->depth - 1];
    for (int d = r->depth - 1; d >= 0; d--) {
        json_t *cur = r->stack[d];
        const char *p = name, *end = name + len;
        bool first = true;
        while (cur != NULL && p < end) {
            const char *dot = memchr(p, '.', (size_t)(end - p));
            size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
            char key[128];
            if (n >= sizeof key)
                return NULL;
            memcpy(key, p, n);
            key[n] = '\0';
            json_t *next = json_is_object(cur) ? json_object_get(cur, key) : NULL;
            if (next == NULL && first)
                break; /* not in this context: try the enclosing one */
            cur = next;
            first = false;
            p = dot ? dot + 1 : end;
        }
        if (!first)
            return cur;
    }
    return NULL;
}

static bool truthy(const json_t *v)
{
    if (v == NULL || json_is_null(v) || json_is_false(v))
        return false;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    return true;
}

static void emit_value(FILE *out, const json_t *v, bool escape)
{
    char num[64];
    const char *s = NULL;
    if (json_is_string(v))
        s = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)), s = num;
    else if (json_is_real(v))
        snprintf(num, sizeof num, "%g", json_real_value(v)), s = num;
    else if (json_is_true(v))
        s = "true";
    if (s == NULL)
        return;
    if (escape)
        web_html_escape(out, s);
    else
        fputs(s, out);
}

static void fail(struct render *r, const char *what, const char *name)
{
    if (!r->failed)
        pf_fail(r->err, PF_EINTERNAL, "template_error", NULL, "template error: %s%s", what,
                name);
    r->failed = true;
}

static void render_text(struct render *r, const char *p, const char *end);

/* Finds the {{/name}} closing the section whose body starts at p. */
static const char *section_end(const char *p, const char *end, const char *name, size_t len,
                               const char **after)
{
    int nesting = 0;
    while (p < end) {
        const char *open = strstr(p, "{{");
        if (open == NULL || open >= end)
            return NULL;
        const char *close = strstr(open, "}}");
        if (close == NULL || close >= end)
            return NULL;
        char kind = open[2];
        const char *tag = open + 3;
        size_t tlen = (size_t)(close - tag);
        if ((kind == '#' || kind == '^') && tlen == len && memcmp(tag, name, len) == 0)
            nesting++;
        else if (kind == '/' && tlen == len && memcmp(tag, name, len) == 0) {
            if (nesting == 0) {
                *after = close + 2;
                return open;
            }
            nesting--;
        }
        p = close + 2;
    }
    return NULL;
}

static void push_and_render(struct render *r, json_t *ctx, const char *b, const char *e)
{
    if (r->depth == MAX_DEPTH) {
        fail(r, "sections nested deeper than ", "16");
        return;
    }
    r->stack[r->depth++] = ctx;
    render_text(r, b, e);
    r->depth--;
}

static void render_text(struct render *r, const char *p, const char *end)
{
    while (p < end && !r->failed) {
        const char *open = strstr(p, "{{");
        if (open == NULL || open >= end) {
            fwrite(p, 1, (size_t)(end - p), r->out);
            return;
        }
        fwrite(p, 1, (size_t)(open - p), r->out);
        bool triple = open[2] == '{';
        const char *close = strstr(open, triple ? "}}}" : "}}");
        if (close == NULL || close >= end) {
            fail(r, "unclosed tag", "");
            return;
        }
        const char *tag = open + (triple ? 3 : 2);
        char kind = *tag;
        if (!triple && (kind == '#' || kind == '^' || kind == '>' || kind == '/' || kind == '@'))
            tag++;
        while (*tag == ' ')
            tag++;
        size_t len = (size_t)(close - tag);
        while (len > 0 && tag[len - 1] == ' ')
            len--;
        const char *next = close + (triple ? 3 : 2);
        if (triple) {
            emit_value(r->out, lookup(r, tag, len), false);
        } else if (kind == '#' || kind == '^') {
            const char *after;
            const char *body_end = section_end(next, end, tag, len, &after);
            if (body_end == NULL) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(len < 60 ? len : 60), tag);
                fail(r, "section not closed: ", name);
                return;
            }
            json_t *v = lookup(r, tag, len);
            if (kind == '^') {
                if (!truthy(v))
                    render_text(r, next, body_end);
            } else if (json_is_array(v)) {
                size_t i;
                json_t *el;
                json_array_foreach(v, i, el) push_and_render(r, el, next, body_end);
            } else if (truthy(v)) {
                push_and_render(r, json_is_object(v) ? v : r->stack[r->depth - 1], next, body_end);
            }
            next = after;
        } else if (kind == '>') {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(len < 120 ? len : 120), tag);
            const char *sub = find(r->t, name);
            if (sub == NULL) {
                fail(r, "no template named ", name);
                return;
            }
            render_text(r, sub, sub + strlen(sub));
        } else if (kind == '/') {
            fail(r, "unexpected section close", "");
            return;
        } else if (kind == '@') {
            json_t *v = lookup(r, tag, len);
            if (json_is_string(v))
                web_time_html(r->out, json_string_value(v), time(NULL));
            else
                emit_value(r->out, v, true);
        } else {
            emit_value(r->out, lookup(r, tag, len), true);
        }
        p = next;
    }
}

char *web_render(const web_templates *t, const char *name, json_t *view, pf_err *err)
{
    const char *text = find(t, name);
    if (text == NULL) {
        pf_fail(err, PF_EINTERNAL, "no_template", NULL, "no template named %s", name);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    struct render r = {.t = t, .err = err};
    r.out = open_memstream(&buf, &len);
    if (r.out == NULL) {
        pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        return NULL;
    }
    r.stack[r.depth++] = view;
    render_text(&r, text, text + strlen(text));
    fclose(r.out);
    if (r.failed) {
        free(buf);
        return NULL;
    }
    return buf;
}
