/* pf_err: the error value every module returns.
 *
 * Library code never prints. It fills a pf_err with a kind (which decides
 * the HTTP status and the exit code), a stable snake_case code that API
 * clients may switch on, the field it concerns (if any), and a message that
 * says what was wrong and what to do. cmd/ and web/ turn it into a line, a
 * page or a JSON body.
 */
#ifndef PF_ERR_H
#define PF_ERR_H

#include <stdarg.h>

typedef enum {
    PF_OK = 0,
    PF_EINVALID,   /* malformed input: 400 / 422, exit 2 */
    PF_EAUTH,      /* not authenticated: 401 */
    PF_EFORBIDDEN, /* authenticated but not allowed: 403 */
    PF_ENOTFOUND,  /* no such thing (or not visible to you): 404 */
    PF_ECONFLICT,  /* state changed under you, duplicate, in use: 409 */
    PF_ELIMIT,     /* rate limited: 429 */
    PF_EUNAVAIL,   /* a service (database, switch, mail) unreachable: 503 */
    PF_EINTERNAL   /* a bug or an unexpected server error: 500 */
} pf_kind;

typedef struct {
    pf_kind kind;
    char code[48];     /* stable_snake_case, "" when kind == PF_OK */
    char field[48];    /* input field concerned, "" if none */
    char message[400]; /* for a person: what was wrong, what to do */
    int retry_after;   /* seconds until a retry may succeed (PF_ELIMIT, PF_EUNAVAIL);
                        * 0 = not known. Sent as Retry-After by web/. */
} pf_err;

/* Sets *err (if err is not NULL) and returns kind, so callers can write
 * `return pf_fail(err, PF_EINVALID, "bad_vlan", "vlan", "...%d", v);`.
 * field may be NULL. retry_after is reset to 0: set it after the call. */
pf_kind pf_fail(pf_err *err, pf_kind kind, const char *code, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Clears *err to PF_OK. */
void pf_err_clear(pf_err *err);

/* Name of a kind, e.g. "conflict". */
const char *pf_kind_name(pf_kind kind);

/* HTTP status for a kind (PF_EINVALID -> 422 unless code says otherwise). */
int pf_kind_http_status(pf_kind kind);

/* Process exit status for a kind: 0 ok, 2 bad input, 3 not found,
 * 4 conflict, 5 unavailable, 1 anything else. */
int pf_kind_exit_status(pf_kind kind);

#endif
