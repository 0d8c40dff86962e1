/* web_svg: server-rendered SVG pictures (no JavaScript; CSP unchanged).
 *
 * The template engine escapes every value, but these pictures are built
 * in C and inserted unescaped ({{{…}}}), so every text node and attribute
 * value that carries data goes through web_svg_escape - one function,
 * unit-tested with hostile names (tests/unit/test_svg.c). Numbers are
 * printed with printf; colours and fonts are classes in static/style.css
 * (style-src 'self' blocks inline style attributes). Each picture has a
 * <title> and role="img" with an aria-label; the page also shows the same
 * data as a table for text browsers and screen readers. */
#ifndef WEB_SVG_H
#define WEB_SVG_H

#include <jansson.h>
#include <stdio.h>

/* Writes s escaped for an XML text node or a quoted attribute value:
 * & < > " ' become entities; control characters other than tab and
 * newline (not allowed in XML 1.0) become U+FFFD. NULL writes nothing. */
void web_svg_escape(FILE *out, const char *s);

/* The circuit's path: member port and VLAN, each switch with its in and
 * out ports, the transport VLAN of each link, the far port and VLAN.
 * req is db_traffic_request_json's object. Caller frees. */
char *web_svg_path(const json_t *req);

/* The traffic graph of a series (wf_traffic_series): bits/s per
 * direction, with cap_bps (0: none) drawn as a line. Caller frees. */
char *web_svg_traffic(const json_t *series, double cap_bps);

/* The fabric's topology (wf_fabric's object): switches as nodes coloured
 * by connection state, links with their circuits and transport VLANs,
 * member ports. Caller frees. */
char *web_svg_topology(const json_t *fabric);

/* A report's chart (the report page's view {"name", "columns", "rows"}):
 * approval_times as bars per month (median and p90 to approval, hours),
 * open_requests as a histogram of ages. NULL for a report without one.
 * *table: the chart's numbers as rows of strings (the text fallback), or
 * NULL. Caller frees / decrefs. */
char *web_svg_report_chart(const json_t *report, json_t **table);

/* PostgreSQL interval text ("55:33:20", "3 days 04:05:06") as seconds
 * (negative ones as 0); -1 when it is not one. */
double web_interval_seconds(const char *s);

/* "1.5 Mbit/s" for 1.5e6 into buf. */
void web_svg_rate(double bps, char *buf, size_t cap);

#endif
