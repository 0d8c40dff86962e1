/* web_svg: see svg.h. */
#include "web/svg.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void web_svg_escape(FILE *out, const char *s)
{
    if (s == NULL)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default:
            if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f)
                fputs("\xef\xbf\xbd", out); /* not allowed in XML 1.0 */
            else
                fputc(*p, out);
        }
    }
}

void web_svg_rate(double bps, char *buf, size_t cap)
{
    static const char *const unit[] = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"};
    int u = 0;
    while (bps >= 1000 && u < 4)
        bps /= 1000, u++;
    snprintf(buf, cap, bps >= 100 || u == 0 ? "%.0f %s" : "%.1f %s", bps, unit[u]);
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long num(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* A text node at x, y with a class. */
static void text(FILE *f, double x, double y, const char *cls, const char *s)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"", x, y);
    web_svg_escape(f, cls);
    fputs("\">", f);
    web_svg_escape(f, s);
    fputs("</text>", f);
}

/* buf by address: open_memstream sets it at fclose. */
static char *finish(FILE *f, char **buf)
{
    if (fclose(f) != 0) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

/* ------------------------------------------------------------ the path */

char *web_svg_path(const json_t *req)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return NULL;
    const json_t *path = json_object_get(req, "path");
    const json_t *a = json_object_get(req, "a"), *b = json_object_get(req, "b");
    size_t n = json_array_size(path);
    const double box_w = 150, gap = 60, h = 150;
    double w = (double)(n + 2) * box_w + (double)(n + 1) * gap + 20;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"svg-path\" id=\"path-diagram\""
               " viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\""
               " aria-labelledby=\"path-title\"><title id=\"path-title\">",
            w, h, w, h);
    fprintf(f, "Path of circuit %lld: ", num(req, "circuit_id"));
    web_svg_escape(f, str(a, "port"));
    size_t i;
    json_t *hop;
    json_array_foreach(path, i, hop) {
        fputs(" \xe2\x86\x92 ", f);
        web_svg_escape(f, str(hop, "switch"));
    }
    fputs(" \xe2\x86\x92 ", f);
    web_svg_escape(f, str(b, "port"));
    fputs("</title>", f);
    char line[160];
    double x = 10, y = 35, bh = 80;
    /* the two members' ports at the ends, the switches between */
    for (size_t k = 0; k < n + 2; k++) {
        const json_t *end = k == 0 ? a : k == n + 1 ? b : NULL;
        const json_t *sw = end ? NULL : json_array_get(path, k - 1);
        fprintf(f, "<g class=\"%s\">", end ? "node member" : "node switch");
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" rx=\"6\"/>", x, y,
                box_w, bh);
        if (end) {
            snprintf(line, sizeof line, "AS%lld", num(end, "asn"));
            text(f, x + 10, y + 20, "label", line);
            text(f, x + 10, y + 40, "sub", str(end, "port"));
            if (num(end, "vlan"))
                snprintf(line, sizeof line, "VLAN %lld", num(end, "vlan"));
            else
                snprintf(line, sizeof line, "untagged");
            text(f, x + 10, y + 60, "sub", line);
        } else {
            text(f, x + 10, y + 20, "label switch-name", str(sw, "switch"));
            snprintf(line, sizeof line, "in %lld \xe2\x86\x92 out %lld", num(sw, "in_port"),
                     num(sw, "out_port"));
            text(f, x + 10, y + 44, "sub", line);
        }
        fputs("</g>", f);
        if (k < n + 1) {
            double x1 = x + box_w, x2 = x + box_w + gap, ly = y + bh / 2;
            fprintf(f, "<line class=\"wire\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                    x1, ly, x2, ly);
            /* between two switches: the link's transport VLAN */
            if (k >= 1 && k < n) {
                const json_t *from = json_array_get(path, k - 1);
                snprintf(line, sizeof line, "VLAN %lld", num(from, "transport_vlan"));
                text(f, x1 + 4, ly - 8, "sub link-vlan", line);
            }
        }
        x += box_w + gap;
    }
    text(f, 10, h - 12, "sub",
         "a_to_b: left to right; b_to_a: back. Ports are OpenFlow port numbers.");
    fputs("</svg>", f);
    return finish(f, &buf);
}

/* ----------------------------------------------------------- the graph */

/* A round number >= v for the axis: 1, 2, 5 times a power of ten. */
static double nice(double v)
{
    if (v <= 0)
        return 1000;
    double p = pow(10, floor(log10(v)));
    for (int i = 0; i < 3; i++) {
        double m = (double[]){1, 2, 5}[i] * p;
        if (m >= v)
            return m;
    }
    return 10 * p;
}

static void time_label(long long t, long long span, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, cap, span <= 2 * 86400 ? "%H:%M" : "%m-%d", &tm);
}

static void series_line(FILE *f, const json_t *pts, const char *key, const char *cls, double x0,
                        double w, double y0, double hgt, double top, long long from,
                        long long span, int step)
{
    fprintf(f, "<path class=\"%s\" d=\"", cls);
    bool pen = false;
    size_t i;
    json_t *p;
    json_array_foreach(pts, i, p) {
        json_t *v = json_object_get(p, key);
        if (!json_is_number(v)) {
            pen = false;
            continue;
        }
        /* A rate holds for its whole bucket: a step from the bucket's
         * start to its end. So one point alone (a new circuit's first
         * bucket, a burst between idle gaps) is a visible segment, not a
         * single "M" that draws nothing. */
        double t = (double)(num(p, "t") - from);
        double xa = x0 + w * t / (double)span;
        double xb = x0 + w * (t + step) / (double)span;
        if (xb > x0 + w)
            xb = x0 + w;
        double y = y0 + hgt - hgt * json_number_value(v) / top;
        fprintf(f, "%s%.1f %.1f L%.1f %.1f ", pen ? "L" : "M", xa, y, xb, y);
        pen = true;
    }
    fputs("\"/>", f);
}

char *web_svg_traffic(const json_t *series, double cap_bps)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return NULL;
    const double W = 760, H = 260, x0 = 80, y0 = 15, w = W - x0 - 20, hgt = H - y0 - 55;
    const json_t *pts = json_object_get(series, "points");
    long long from = 0, to = 0;
    size_t np = json_array_size(pts);
    int step = (int)num(series, "step");
    if (np > 0) {
        from = num(json_array_get(pts, 0), "t");
        to = num(json_array_get(pts, np - 1), "t") + step;
    }
    long long span = to > from ? to - from : 1;
    double max = json_number_value(json_object_get(series, "max_bps"));
    double top = nice((cap_bps > max ? cap_bps : max) * 1.05);
    const json_t *a = json_object_get(series, "a"), *b = json_object_get(series, "b");
    char ab[120], ba[120];
    snprintf(ab, sizeof ab, "AS%lld \xe2\x86\x92 AS%lld", num(a, "asn"), num(b, "asn"));
    snprintf(ba, sizeof ba, "AS%lld \xe2\x86\x92 AS%lld", num(b, "asn"), num(a, "asn"));
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"svg-traffic\""
               " id=\"traffic-graph\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\""
               " role=\"img\" aria-labelledby=\"traffic-title\"><title id=\"traffic-title\">",
            W, H, W, H);
    char r[32];
    web_svg_rate(max, r, sizeof r);
    fprintf(f, "Traffic of request %lld, ", num(series, "request_id"));
    web_svg_escape(f, str(series, "from"));
    fputs(" to ", f);
    web_svg_escape(f, str(series, "to"));
    fprintf(f, " UTC, peak %s", r);
    fputs("</title>", f);
    fprintf(f, "<rect class=\"plot\" x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\"/>", x0,
            y0, w, hgt);
    for (int k = 0; k <= 4; k++) {
        double y = y0 + hgt - hgt * k / 4.0;
        fprintf(f, "<line class=\"grid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>", x0,
                y, x0 + w, y);
        web_svg_rate(top * k / 4.0, r, sizeof r);
        text(f, 4, y + 4, "axis", r);
    }
    for (int k = 0; k <= 4; k++) {
        long long t = from + span * k / 4;
        char tl[32];
        time_label(t, span, tl, sizeof tl);
        double x = x0 + w * k / 4.0;
        text(f, x - 16, y0 + hgt + 16, "axis", tl);
    }
    text(f, x0 + w - 30, y0 + hgt + 32, "axis", "UTC");
    if (cap_bps > 0) {
        double y = y0 + hgt - hgt * cap_bps / top;
        fprintf(f, "<line class=\"cap\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>", x0, y,
                x0 + w, y);
        web_svg_rate(cap_bps, r, sizeof r);
        char capl[64];
        snprintf(capl, sizeof capl, "cap %s", r);
        text(f, x0 + 6, y - 4, "axis cap-label", capl);
    }
    series_line(f, pts, "a_to_b_bps", "line-ab", x0, w, y0, hgt, top, from, span, step);
    series_line(f, pts, "b_to_a_bps", "line-ba", x0, w, y0, hgt, top, from, span, step);
    double ly = H - 10;
    fprintf(f, "<rect class=\"key-ab\" x=\"%.0f\" y=\"%.0f\" width=\"14\" height=\"4\"/>", x0,
            ly - 5);
    text(f, x0 + 20, ly, "axis", ab);
    fprintf(f, "<rect class=\"key-ba\" x=\"%.0f\" y=\"%.0f\" width=\"14\" height=\"4\"/>",
            x0 + 200, ly - 5);
    text(f, x0 + 220, ly, "axis", ba);
    fputs("</svg>", f);
    return finish(f, &buf);
}

/* -------------------------------------------------------- the topology */

static int index_of(const json_t *sws, const char *name)
{
    size_t i;
    json_t *s;
    json_array_foreach(sws, i, s) if (strcmp(str(s, "name"), name) == 0) return (int)i;
    return -1;
}

char *web_svg_topology(const json_t *fabric)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return NULL;
    const json_t *sws = json_object_get(fabric, "switches");
    const json_t *links = json_object_get(fabric, "links");
    const json_t *ports = json_object_get(fabric, "ports");
    size_t n = json_array_size(sws);
    const double W = 760, H = 520, cx = W / 2, cy = H / 2 - 10, R = n > 1 ? 170 : 0;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"svg-topology\" id=\"topology\""
               " viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\""
               " aria-labelledby=\"topology-title\"><title id=\"topology-title\">Fabric: %zu "
               "switch%s, %zu link%s</title>",
            W, H, W, H, n, n == 1 ? "" : "es", json_array_size(links),
            json_array_size(links) == 1 ? "" : "s");
    double *xs = calloc(n ? n : 1, sizeof *xs), *ys = calloc(n ? n : 1, sizeof *ys);
    if (xs == NULL || ys == NULL) {
        free(xs), free(ys);
        fclose(f);
        free(buf);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        double ang = 2 * M_PI * (double)i / (double)n - M_PI / 2;
        xs[i] = cx + R * cos(ang);
        ys[i] = cy + R * sin(ang);
    }
    size_t i;
    json_t *l;
    char line[200];
    json_array_foreach(links, i, l) {
        int ia = index_of(sws, str(l, "a_switch")), ib = index_of(sws, str(l, "b_switch"));
        if (ia < 0 || ib < 0)
            continue;
        fprintf(f, "<g class=\"link\"><line class=\"wire\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\""
                   " y2=\"%.1f\"/>",
                xs[ia], ys[ia], xs[ib], ys[ib]);
        double mx = (xs[ia] + xs[ib]) / 2, my = (ys[ia] + ys[ib]) / 2;
        long long nc = num(l, "circuits");
        snprintf(line, sizeof line, "%lld circuit%s", nc, nc == 1 ? "" : "s");
        text(f, mx + 6, my - 6, "sub", line);
        /* the transport VLANs in use, as text (a list can be long) */
        char *vl = NULL;
        size_t vlen = 0;
        FILE *vf = open_memstream(&vl, &vlen);
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(l, "vlans"), k, v) {
            if (k == 8) {
                fputs(", \xe2\x80\xa6", vf);
                break;
            }
            fprintf(vf, "%s%lld", k ? ", " : "VLAN ", (long long)json_integer_value(v));
        }
        fclose(vf);
        if (vl && *vl)
            text(f, mx + 6, my + 10, "sub link-vlan", vl);
        free(vl);
        fputs("</g>", f);
    }
    /* member ports around their switch */
    json_t *p;
    json_array_foreach(ports, i, p) {
        int is = index_of(sws, str(p, "switch"));
        if (is < 0)
            continue;
        int k = 0;
        for (size_t j = 0; j < i; j++)
            k += strcmp(str(json_array_get(ports, j), "switch"), str(p, "switch")) == 0;
        double dx = xs[is] - cx, dy = ys[is] - cy, d = sqrt(dx * dx + dy * dy);
        double ux = d > 0 ? dx / d : 0, uy = d > 0 ? dy / d : 1;
        double px = xs[is] + ux * 70 + (k - 1) * 14 * -uy;
        double py = ys[is] + uy * 70 + (k - 1) * 14 * ux + k * 16;
        fprintf(f, "<line class=\"port-wire\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                xs[is], ys[is], px, py);
        snprintf(line, sizeof line, "AS%lld %s:%lld", num(p, "asn"), str(p, "name"),
                 num(p, "ofport"));
        text(f, px - 30, py + 4, "sub port-label", line);
    }
    json_t *s;
    json_array_foreach(sws, i, s) {
        fputs("<g class=\"node switch conn-", f);
        web_svg_escape(f, str(s, "conn_state"));
        fputs("\">", f);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"34\"/>", xs[i], ys[i]);
        text(f, xs[i] - 28, ys[i] - 2, "label switch-name", str(s, "name"));
        text(f, xs[i] - 28, ys[i] + 14, "sub", str(s, "conn_state"));
        fputs("</g>", f);
    }
    free(xs);
    free(ys);
    fputs("</svg>", f);
    return finish(f, &buf);
}

/* ------------------------------------------------------------ report charts */

/* PostgreSQL interval text as seconds: "55:33:20", "3 days 04:05:06",
 * "1 day", "-00:00:05" (negative: 0). -1 when it is not one. */
double web_interval_seconds(const char *s)
{
    if (s == NULL || *s == '\0')
        return -1;
    double total = 0;
    const char *p = s;
    char *end;
    long days = strtol(p, &end, 10);
    if (end != p && strncmp(end, " day", 4) == 0) {
        total += days * 86400.0;
        p = end + 4;
        if (*p == 's')
            p++;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return total < 0 ? 0 : total;
    }
    int h, m;
    double sec;
    int n = 0;
    if (sscanf(p, "%d:%d:%lf%n", &h, &m, &sec, &n) != 3 || p[n] != '\0')
        return -1;
    double t = (h < 0 || *p == '-') ? -(fabs((double)h) * 3600 + m * 60 + sec)
                                    : h * 3600.0 + m * 60 + sec;
    total += t;
    return total < 0 ? 0 : total;
}

static int column(const json_t *report, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(report, "columns"), i, c)
        if (json_is_string(c) && strcmp(json_string_value(c), name) == 0)
            return (int)i;
    return -1;
}

static const char *cell(const json_t *row, int col)
{
    return col < 0 ? NULL : json_string_value(json_array_get(row, (size_t)col));
}

/* Bars: n groups (labels) of k series (values[g * k + s], classes cls[s]),
 * the value axis in `unit` (values divided by div). */
static char *bars(const char *title, const char *const *labels, size_t n, const double *values,
                  int k, const char *const *cls, const char *const *names, double div,
                  const char *unit)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return NULL;
    const double W = 640, H = 240, x0 = 56, y0 = 16, w = W - x0 - 12, h = H - y0 - 44;
    double max = 0;
    for (size_t i = 0; i < n * (size_t)k; i++)
        if (values[i] / div > max)
            max = values[i] / div;
    double top = nice(max > 0 ? max : 1);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
               "role=\"img\" aria-label=\"", W, H);
    web_svg_escape(f, title);
    fputs("\"><title>", f);
    web_svg_escape(f, title);
    fputs("</title>", f);
    fprintf(f, "<rect class=\"plot\" x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\"/>", x0,
            y0, w, h);
    for (int g = 0; g <= 4; g++) {
        double v = top * g / 4, y = y0 + h - h * g / 4;
        char lab[48];
        snprintf(lab, sizeof lab, "%g %s", v, unit);
        fprintf(f, "<line class=\"grid\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/>", x0,
                x0 + w, y, y);
        text(f, 4, y + 4, "axis", lab);
    }
    double gw = n ? w / (double)n : w, bw = gw * 0.8 / k;
    for (size_t i = 0; i < n; i++) {
        for (int s = 0; s < k; s++) {
            double v = values[i * (size_t)k + (size_t)s] / div;
            double bh = top > 0 ? h * v / top : 0;
            fprintf(f, "<rect class=\"bar ");
            web_svg_escape(f, cls[s]);
            fprintf(f, "\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>",
                    x0 + gw * (double)i + gw * 0.1 + bw * s, y0 + h - bh, bw, bh);
            web_svg_escape(f, labels[i]);
            fputs(" ", f);
            web_svg_escape(f, names[s]);
            fprintf(f, ": %.1f ", v);
            web_svg_escape(f, unit);
            fputs("</title></rect>", f);
        }
        text(f, x0 + gw * (double)i + gw * 0.1, y0 + h + 14, "axis", labels[i]);
    }
    for (int s = 0; s < k; s++) {
        fprintf(f, "<rect class=\"key ");
        web_svg_escape(f, cls[s]);
        fprintf(f, "\" x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\"/>", x0 + 120.0 * s,
                H - 16);
        text(f, x0 + 120.0 * s + 14, H - 7, "sub", names[s]);
    }
    fputs("</svg>", f);
    return finish(f, &buf);
}

char *web_svg_report_chart(const json_t *report, json_t **table)
{
    *table = NULL;
    const char *name = str(report, "name");
    const json_t *rows = json_object_get(report, "rows");
    size_t n = json_array_size(rows);
    if (strcmp(name, "approval_times") == 0) {
        int cm = column(report, "month"), c50 = column(report, "median_to_approval"),
            c90 = column(report, "p90_to_approval");
        if (cm < 0 || c50 < 0 || c90 < 0 || n == 0)
            return NULL;
        const char **labels = calloc(n, sizeof *labels);
        double *v = calloc(2 * n, sizeof *v);
        if (labels == NULL || v == NULL) {
            free(labels);
            free(v);
            return NULL;
        }
        *table = json_array();
        for (size_t i = 0; i < n; i++) {
            const json_t *r = json_array_get(rows, i);
            labels[i] = cell(r, cm) ? cell(r, cm) : "";
            double m = web_interval_seconds(cell(r, c50)), p = web_interval_seconds(cell(r, c90));
            v[2 * i] = m > 0 ? m : 0;
            v[2 * i + 1] = p > 0 ? p : 0;
            char a[32], b[32];
            snprintf(a, sizeof a, "%.1f", v[2 * i] / 3600);
            snprintf(b, sizeof b, "%.1f", v[2 * i + 1] / 3600);
            json_array_append_new(*table, json_pack("[sss]", labels[i], a, b));
        }
        static const char *const cls[] = {"bar-median", "bar-p90"};
        static const char *const names[] = {"median", "p90"};
        char *svg = bars("Time from submission to approval per month, median and p90, in hours",
                         labels, n, v, 2, cls, names, 3600, "h");
        free(labels);
        free(v);
        return svg;
    }
    if (strcmp(name, "open_requests") == 0) {
        int ca = column(report, "age");
        if (ca < 0)
            return NULL;
        static const char *const labels[] = {"< 1 h", "1–24 h", "1–7 days", "7–30 days",
                                             "> 30 days"};
        static const double upto[] = {3600, 86400, 7 * 86400, 30 * 86400, 1e300};
        double v[5] = {0};
        for (size_t i = 0; i < n; i++) {
            double s = web_interval_seconds(cell(json_array_get(rows, i), ca));
            if (s < 0)
                continue;
            for (int b = 0; b < 5; b++)
                if (s < upto[b]) {
                    v[b]++;
                    break;
                }
        }
        *table = json_array();
        for (int b = 0; b < 5; b++)
            json_array_append_new(*table, json_pack("[si]", labels[b], (int)v[b]));
        static const char *const cls[] = {"bar-median"};
        static const char *const names[] = {"open requests"};
        return bars("Open requests by age", labels, 5, v, 1, cls, names, 1, "");
    }
    return NULL;
}
