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

/* One line per dependency, "NAME: ok" or "NAME: down (why)"; 503 when one
 * is down, so a load balancer takes this server out and an operator reads
 * which. The server's own dependency is PostgreSQL (mail and switches are
 * the workers'; their state is on /metrics and the fabric page). */
void web_h_healthz(web_ctx *ctx)
{
    pf_err err = {0};
    if (ctx->env.db == NULL)
        pf_fail(&err, PF_EUNAVAIL, "database_unavailable", NULL, "%s",
                ctx->db_error[0] ? ctx->db_error : "no connection");
    else
        db_ping(ctx->env.db, &err);
    char *body = NULL;
    int n = err.kind == PF_OK ? asprintf(&body, "database: ok\n")
                              : asprintf(&body, "database: down (%s)\n", err.message);
    if (n < 0) {
        web_text(ctx, 500, "text/plain; charset=utf-8", strdup("out of memory\n"), 14);
        return;
    }
    if (err.kind != PF_OK) {
        snprintf(ctx->extra_header_name, sizeof ctx->extra_header_name, "Retry-After");
        snprintf(ctx->extra_header_value, sizeof ctx->extra_header_value, "5");
    }
    web_text(ctx, err.kind == PF_OK ? 200 : 503, "text/plain; charset=utf-8", body, (size_t)n);
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
