/* Handlers for operations: /healthz and /static/ (public), /metrics (an
 * operator's API token). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "web/http.h"
#include "web/metrics.h"
#include "web/server.h"
#include "workflow/queries.h"

void web_h_healthz(web_ctx *ctx)
{
    pf_err err = {0};
    if (ctx->env.db == NULL || db_ping(ctx->env.db, &err) != PF_OK) {
        web_text(ctx, 503, "text/plain; charset=utf-8", strdup("database unavailable\n"), 21);
        return;
    }
    web_text(ctx, 200, "text/plain; charset=utf-8", strdup("ok\n"), 3);
}

void web_h_metrics(web_ctx *ctx)
{
    pf_err err = {0};
    json_t *gauges = NULL;
    if (ctx->env.db != NULL)
        wf_gauges(&ctx->env, &ctx->session.actor, &gauges, &err);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    web_metrics_write(f, gauges);
    fclose(f);
    json_decref(gauges);
    web_text(ctx, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}

void web_h_static(web_ctx *ctx)
{
    const char *file = ctx->params[0];
    const char *type = NULL;
    size_t n = strlen(file);
    /* only plain names of known types: no paths, no dot files */
    bool plain = n > 0 && n < 64 && file[0] != '.' && strspn(file,
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
    if (plain && n > 4 && strcmp(file + n - 4, ".css") == 0)
        type = "text/css; charset=utf-8";
    else if (plain && n > 4 && strcmp(file + n - 4, ".png") == 0)
        type = "image/png";
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", web_server_static_dir(), file);
    int fd = type ? open(path, O_RDONLY) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size > 1024 * 1024) {
        if (fd >= 0)
            close(fd);
        web_text(ctx, 404, "text/plain; charset=utf-8", strdup("not found\n"), 10);
        return;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    ssize_t got = buf ? read(fd, buf, (size_t)st.st_size) : -1;
    close(fd);
    if (got != st.st_size) {
        free(buf);
        web_text(ctx, 500, "text/plain; charset=utf-8", strdup("cannot read\n"), 12);
        return;
    }
    snprintf(ctx->extra_header_name, sizeof ctx->extra_header_name, "Cache-Control");
    snprintf(ctx->extra_header_value, sizeof ctx->extra_header_value, "public, max-age=3600");
    web_text(ctx, 200, type, buf, (size_t)got);
}
