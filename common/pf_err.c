/* pf_err: see pf_err.h. */
#include "pf_err.h"

#include <stdio.h>
#include <string.h>

pf_kind pf_fail(pf_err *err, pf_kind kind, const char *code, const char *field,
                const char *fmt, ...)
{
    if (err == NULL)
        return kind;
    err->kind = kind;
    err->retry_after = 0;
    snprintf(err->code, sizeof err->code, "%s", code ? code : "");
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return kind;
}

void pf_err_clear(pf_err *err)
{
    if (err != NULL)
        memset(err, 0, sizeof *err);
}

const char *pf_kind_name(pf_kind kind)
{
    switch (kind) {
    case PF_OK: return "ok";
    case PF_EINVALID: return "invalid";
    case PF_EAUTH: return "unauthenticated";
    case PF_EFORBIDDEN: return "forbidden";
    case PF_ENOTFOUND: return "not_found";
    case PF_ECONFLICT: return "conflict";
    case PF_ELIMIT: return "rate_limited";
    case PF_EUNAVAIL: return "unavailable";
    case PF_EINTERNAL: return "internal";
    }
    return "internal";
}

int pf_kind_http_status(pf_kind kind)
{
    switch (kind) {
    case PF_OK: return 200;
    case PF_EINVALID: return 422;
    case PF_EAUTH: return 401;
    case PF_EFORBIDDEN: return 403;
    case PF_ENOTFOUND: return 404;
    case PF_ECONFLICT: return 409;
    case PF_ELIMIT: return 429;
    case PF_EUNAVAIL: return 503;
    case PF_EINTERNAL: return 500;
    }
    return 500;
}

int pf_kind_exit_status(pf_kind kind)
{
    switch (kind) {
    case PF_OK: return 0;
    case PF_EINVALID: return 2;
    case PF_ENOTFOUND: return 3;
    case PF_ECONFLICT: return 4;
    case PF_EUNAVAIL: return 5;
    default: return 1;
    }
}
