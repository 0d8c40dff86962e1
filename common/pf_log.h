/* pf_log: the event lines of serve and the workers, one line each, on
 * stdout (info) or stderr (errors), for the journal. Text by default
 * ("COMPONENT: message", as always); JSON for log shippers
 * (log_format = json): {"ts":"…","level":"info","component":"…","msg":"…"}.
 * A line is written with one call, so threads do not interleave.
 * For cmd/ and web/ (the processes' own output): library code still
 * never prints. */
#ifndef PF_LOG_H
#define PF_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Chooses the format for the process; set once at start. */
void pf_log_set_json(bool json);

void pf_log_info(const char *component, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pf_log_error(const char *component, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The line pf_log would write (with its "\n") into buf; for tests. */
void pf_log_format(char *buf, size_t n, bool json, const char *level, const char *component,
                   const char *msg);

#endif
