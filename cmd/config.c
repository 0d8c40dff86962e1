/* config: the layers of cli_config (cli.h): flag > environment > file >
 * default. The file is `key = value` lines whose keys are the
 * environment variables' names in lower case without PEERFLOW_; `#`
 * starts a comment line. Like ssh with a private key, a file that holds a
 * password is refused when others could read it. */
#include "cmd/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PF_MIGRATIONS_DIR
#define PF_MIGRATIONS_DIR "migrations"
#endif
#ifndef PF_WEB_DIR
#define PF_WEB_DIR "web"
#endif
#ifndef PF_DATADIR
#define PF_DATADIR "/usr/local/share/peerflow"
#endif
#ifndef PF_SYSCONFDIR
#define PF_SYSCONFDIR "/etc"
#endif
#ifndef PF_TREE_DIR
#define PF_TREE_DIR ""
#endif

enum {
    K_SECRET = 1, /* may hold a password: masked, and the file rule applies */
    K_FILE = 2,   /* KEY_file (PEERFLOW_KEY_FILE) reads the value from a file */
    K_WHOLE = 4,  /* the whole value is the secret (an API key): never printed */
};

struct key {
    const char *name;
    size_t off;
    unsigned flags;
    int follows; /* unset everywhere: takes this key's value (-1: none) */
};

#define KEY(n, fl, fo) {#n, offsetof(cli_config, n), fl, fo}
static const struct key keys[] = {
    KEY(database_url, K_SECRET | K_FILE, -1),
    KEY(worker_database_url, K_SECRET | K_FILE, 0),
    KEY(migrate_database_url, K_SECRET | K_FILE, 0),
    KEY(migrations_dir, 0, -1),
    KEY(templates_dir, 0, -1),
    KEY(static_dir, 0, -1),
    KEY(listen, 0, -1),
    KEY(base_url, 0, -1),
    KEY(mail_from, 0, -1),
    KEY(smtp_url, K_SECRET | K_FILE, -1),
    KEY(key_dir, 0, -1),
    KEY(openflow_listen, 0, -1),
    KEY(openflow_tls_dir, 0, -1),
    KEY(trusted_proxies, 0, -1),
    KEY(max_open_requests, 0, -1),
    KEY(max_submissions_per_hour, 0, -1),
    KEY(mail_max_attempts, 0, -1),
    KEY(peering_api_base, 0, -1),
    KEY(peeringdb_url, 0, -1),
    KEY(peeringdb_api_key, K_SECRET | K_FILE | K_WHOLE, -1),
    KEY(peeringdb_interval, 0, -1),
    KEY(peeringdb_ix_id, 0, -1),
    KEY(log_format, 0, -1),
    KEY(counter_interval, 0, -1),
    KEY(master_lease, 0, -1),
};
#define NKEYS ((int)(sizeof keys / sizeof keys[0]))
_Static_assert(sizeof keys / sizeof keys[0] <= CLI_CONF_MAX_KEYS, "raise CLI_CONF_MAX_KEYS");

struct cli_conf_str {
    struct cli_conf_str *next;
    char s[];
};

static const char **slot(cli_config *cfg, int i)
{
    return (const char **)((char *)cfg + keys[i].off);
}

static const char *cslot(const cli_config *cfg, int i)
{
    return *(const char *const *)((const char *)cfg + keys[i].off);
}

/* A copy of s that lives as long as cfg. */
static const char *keep(cli_config *cfg, const char *s)
{
    size_t n = strlen(s) + 1;
    struct cli_conf_str *c = malloc(sizeof *c + n);
    if (c == NULL) {
        fputs("peerflow: out of memory\n", stderr);
        exit(1);
    }
    memcpy(c->s, s, n);
    c->next = cfg->owned;
    cfg->owned = c;
    return c->s;
}

static const char *keepf(cli_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *keepf(cli_config *cfg, const char *fmt, ...)
{
    char buf[PATH_MAX + 200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return keep(cfg, buf);
}

void cli_config_free(cli_config *cfg)
{
    while (cfg->owned) {
        struct cli_conf_str *next = cfg->owned->next;
        free(cfg->owned);
        cfg->owned = next;
    }
}

const char *cli_config_key(int i)
{
    return i >= 0 && i < NKEYS ? keys[i].name : NULL;
}

static int find_key(const char *name, size_t len, bool *is_file)
{
    *is_file = false;
    for (int i = 0; i < NKEYS; i++) {
        size_t kl = strlen(keys[i].name);
        if (len == kl && strncmp(name, keys[i].name, len) == 0)
            return i;
        if ((keys[i].flags & K_FILE) && len == kl + 5 && strncmp(name, keys[i].name, kl) == 0 &&
            strncmp(name + kl, "_file", 5) == 0) {
            *is_file = true;
            return i;
        }
    }
    return -1;
}

/* Copies value to buf with the span [from, to) replaced by "*****". */
static void splice_mask(const char *value, size_t from, size_t to, char *buf, size_t n)
{
    snprintf(buf, n, "%.*s*****%s", (int)from, value, value + to);
}

bool cli_mask_secret(const char *value, char *buf, size_t n)
{
    snprintf(buf, n, "%s", value ? value : "");
    if (value == NULL)
        return false;
    /* URL form: scheme://user:password@host... (the userinfo ends at the
     * last '@' before the path) */
    const char *sep = strstr(value, "://");
    if (sep) {
        const char *auth = sep + 3;
        size_t hostpart = strcspn(auth, "/?#");
        const char *at = NULL;
        for (const char *p = auth; p < auth + hostpart; p++)
            if (*p == '@')
                at = p;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            splice_mask(value, (size_t)(colon + 1 - value), (size_t)(at - value), buf, n);
            return true;
        }
    }
    /* conninfo keyword (password=...) or URL query parameter
     * (?password=...), the value quoted or not */
    for (const char *p = strstr(value, "password"); p; p = strstr(p + 1, "password")) {
        bool word_start = p == value || p[-1] == ' ' || p[-1] == '?' || p[-1] == '&' ||
                          p[-1] == '\t';
        const char *q = p + 8;
        while (*q == ' ')
            q++;
        if (!word_start || *q != '=')
            continue;
        q++;
        while (*q == ' ')
            q++;
        const char *end = q;
        if (*q == '\'') {
            for (end = q + 1; *end && *end != '\''; end++)
                if (*end == '\\' && end[1])
                    end++;
            if (*end)
                end++;
        } else {
            end = q + strcspn(q, " \t&#");
        }
        splice_mask(value, (size_t)(q - value), (size_t)(end - value), buf, n);
        return true;
    }
    return false;
}

void cli_config_masked(const cli_config *cfg, int i, char *buf, size_t n)
{
    const char *v = cslot(cfg, i);
    if (v == NULL)
        snprintf(buf, n, "(unset)");
    else if (cfg->hidden[i] || (keys[i].flags & K_WHOLE))
        snprintf(buf, n, "*****");
    else
        cli_mask_secret(v, buf, n);
}

/* Reads a secret's file: one line, private to its owner. */
static pf_kind read_secret(cli_config *cfg, const char *key, const char *path,
                           const char **out, pf_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pf_fail(err, PF_EINVALID, "config_unreadable", key, "%s_file: cannot read %s: %s",
                       key, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return pf_fail(err, PF_EINVALID, "config_unreadable", key,
                       "%s_file: %s is not a regular file", key, path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return pf_fail(err, PF_EINVALID, "config_unsafe_permissions", key,
                       "%s_file: %s holds a secret and is open to group or others (mode %03o): "
                       "run chmod 600 %s",
                       key, path, (unsigned)(st.st_mode & 0777), path);
    }
    char buf[4097];
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got < 0)
        return pf_fail(err, PF_EINVALID, "config_unreadable", key, "%s_file: cannot read %s: %s",
                       key, path, strerror(errno));
    buf[got] = '\0';
    size_t len = strlen(buf);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    if (len == 0 || strchr(buf, '\n') || (size_t)got == sizeof buf - 1)
        return pf_fail(err, PF_EINVALID, "config_bad_secret_file", key,
                       "%s_file: %s must hold the value on one line (at most 4096 bytes)", key,
                       path);
    *out = keep(cfg, buf);
    return PF_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static pf_kind read_file(cli_config *cfg, const char *path, pf_err *err)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return pf_fail(err, PF_EINVALID, "config_unreadable", "config",
                       "cannot read the configuration file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return pf_fail(err, PF_EINVALID, "config_unreadable", "config",
                       "the configuration file %s is not a regular file", path);
    }
    if (st.st_mode & 002) {
        fclose(f);
        return pf_fail(err, PF_EINVALID, "config_unsafe_permissions", "config",
                       "the configuration file %s is writable by anyone (mode %03o): run "
                       "chmod o-w %s",
                       path, (unsigned)(st.st_mode & 0777), path);
    }
    bool seen[CLI_CONF_MAX_KEYS] = {0};
    char line[8192];
    int lineno = 0;
    pf_kind k = PF_OK;
    const char *secret_key = NULL;
    while (k == PF_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            k = pf_fail(err, PF_EINVALID, "config_syntax", "config",
                        "%s:%d: the line is longer than %zu bytes", path, lineno, sizeof line - 2);
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            k = pf_fail(err, PF_EINVALID, "config_syntax", "config",
                        "%s:%d: expected 'key = value', not '%.60s'", path, lineno, s);
            break;
        }
        *eq = '\0';
        char *name = trim(s), *value = trim(eq + 1);
        bool is_file;
        int i = find_key(name, strlen(name), &is_file);
        if (i < 0) {
            k = pf_fail(err, PF_EINVALID, "config_unknown_key", "config",
                        "%s:%d: unknown key '%.60s' (see: man peerflow.conf)", path, lineno,
                        name);
            break;
        }
        if (seen[i]) {
            k = pf_fail(err, PF_EINVALID, "config_repeated_key", "config",
                        "%s:%d: %s is set twice (or with %s_file too); keep one", path, lineno,
                        keys[i].name, keys[i].name);
            break;
        }
        seen[i] = true;
        if (*value == '\0')
            continue; /* empty: as if not given */
        if (is_file) {
            if (value[0] != '/') {
                k = pf_fail(err, PF_EINVALID, "config_syntax", "config",
                            "%s:%d: %s_file must be an absolute path", path, lineno,
                            keys[i].name);
                break;
            }
            k = read_secret(cfg, keys[i].name, value, slot(cfg, i), err);
            cfg->hidden[i] = true;
            cfg->origin[i] = keepf(cfg, "file %s:%d (%s_file %s)", path, lineno, keys[i].name,
                                   value);
        } else {
            *slot(cfg, i) = keep(cfg, value);
            cfg->hidden[i] = false;
            cfg->origin[i] = keepf(cfg, "file %s:%d", path, lineno);
            char masked[16];
            if ((keys[i].flags & K_WHOLE) ||
                ((keys[i].flags & K_SECRET) && cli_mask_secret(value, masked, sizeof masked)))
                secret_key = keys[i].name;
        }
        cfg->source[i] = CLI_SRC_FILE;
    }
    if (k == PF_OK && ferror(f))
        k = pf_fail(err, PF_EINVALID, "config_unreadable", "config", "cannot read %s: %s", path,
                    strerror(errno));
    fclose(f);
    if (k == PF_OK && secret_key && (st.st_mode & 044))
        k = pf_fail(err, PF_EINVALID, "config_unsafe_permissions", "config",
                    "the configuration file %s holds a password (%s) and is readable by group "
                    "or others (mode %03o): run chmod 600 %s, or move the secret to %s_file",
                    path, secret_key, (unsigned)(st.st_mode & 0777), path, secret_key);
    return k;
}

static void env_name(const char *key, const char *suffix, char *buf, size_t n)
{
    size_t j = (size_t)snprintf(buf, n, "PEERFLOW_");
    for (const char *p = key; *p && j + 1 < n; p++)
        buf[j++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
    buf[j] = '\0';
    snprintf(buf + j, n - j, "%s", suffix);
}

static pf_kind read_env(cli_config *cfg, pf_err *err)
{
    for (int i = 0; i < NKEYS; i++) {
        char name[80], fname[90];
        env_name(keys[i].name, "", name, sizeof name);
        env_name(keys[i].name, "_FILE", fname, sizeof fname);
        const char *v = getenv(name);
        const char *fv = (keys[i].flags & K_FILE) ? getenv(fname) : NULL;
        v = v && *v ? v : NULL;
        fv = fv && *fv ? fv : NULL;
        if (v && fv)
            return pf_fail(err, PF_EINVALID, "config_conflict", keys[i].name,
                           "%s and %s are both set: unset one", name, fname);
        if (v) {
            *slot(cfg, i) = v;
            cfg->hidden[i] = false;
            cfg->origin[i] = keepf(cfg, "environment %s", name);
        } else if (fv) {
            if (read_secret(cfg, keys[i].name, fv, slot(cfg, i), err) != PF_OK)
                return err->kind;
            cfg->hidden[i] = true;
            cfg->origin[i] = keepf(cfg, "environment %s (%s)", fname, fv);
        } else {
            continue;
        }
        cfg->source[i] = CLI_SRC_ENV;
    }
    return PF_OK;
}

/* True when this binary is build/... of the source tree it was built in:
 * then the tree's migrations and web files are the ones to use, and the
 * system's configuration file is not read (a developer's or a test's run
 * must not pick up an installed peerflow's settings). */
static bool run_from_tree(void)
{
    char exe[PATH_MAX], tree[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || PF_TREE_DIR[0] == '\0' || realpath(PF_TREE_DIR, tree) == NULL)
        return false;
    exe[n] = '\0';
    size_t tl = strlen(tree);
    return strncmp(exe, tree, tl) == 0 && strncmp(exe + tl, "/build/", 7) == 0;
}

static void set_default(cli_config *cfg, int i, const char *v)
{
    if (cslot(cfg, i) == NULL && v != NULL) {
        *slot(cfg, i) = v;
        cfg->source[i] = CLI_SRC_DEFAULT;
        cfg->origin[i] = "default";
    }
}

static int index_of(const char *name)
{
    bool is_file;
    return find_key(name, strlen(name), &is_file);
}

pf_kind cli_config_init(cli_config *cfg, const cli_flags *flags, pf_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < NKEYS; i++)
        cfg->origin[i] = "default";
    static const cli_flags none = {0};
    if (flags == NULL)
        flags = &none;
    bool tree = run_from_tree();

    const char *path = flags->config, *env_path = getenv("PEERFLOW_CONFIG");
    if (path == NULL && env_path && *env_path)
        path = env_path;
    if (path == NULL && !tree && access(PF_SYSCONFDIR "/peerflow/peerflow.conf", F_OK) == 0)
        path = PF_SYSCONFDIR "/peerflow/peerflow.conf";
    if (path) {
        cfg->config_file = keep(cfg, path);
        if (read_file(cfg, cfg->config_file, err) != PF_OK)
            return err->kind;
    }
    if (read_env(cfg, err) != PF_OK)
        return err->kind;
    if (flags->database_url) {
        for (int i = 0; i < 3; i++) {
            *slot(cfg, i) = flags->database_url;
            cfg->source[i] = CLI_SRC_FLAG;
            cfg->hidden[i] = false;
            cfg->origin[i] = "flag --database-url";
        }
    }
    for (int i = 0; i < NKEYS; i++) {
        int from = keys[i].follows;
        if (from >= 0 && cslot(cfg, i) == NULL && cslot(cfg, from) != NULL) {
            *slot(cfg, i) = cslot(cfg, from);
            cfg->source[i] = cfg->source[from];
            cfg->hidden[i] = cfg->hidden[from];
            cfg->origin[i] = keepf(cfg, "as %s: %s", keys[from].name, cfg->origin[from]);
        }
    }
    set_default(cfg, index_of("migrations_dir"),
                tree ? PF_MIGRATIONS_DIR : PF_DATADIR "/migrations");
    set_default(cfg, index_of("templates_dir"),
                tree ? PF_WEB_DIR "/templates" : PF_DATADIR "/templates");
    set_default(cfg, index_of("static_dir"), tree ? PF_WEB_DIR "/static" : PF_DATADIR "/static");
    set_default(cfg, index_of("listen"), "127.0.0.1:8080");
    set_default(cfg, index_of("mail_from"), "peerflow@localhost");
    set_default(cfg, index_of("log_format"), "text");
    set_default(cfg, index_of("peering_api_base"), "/peering-api/v0.1");
    set_default(cfg, index_of("peeringdb_url"), "https://www.peeringdb.com/api");
    if (cfg->peering_api_base[0] != '/' || strpbrk(cfg->peering_api_base, "?#% ") != NULL)
        return pf_fail(err, PF_EINVALID, "bad_peering_api_base", "peering_api_base",
                       "peering_api_base is a path like /peering-api/v0.1, not '%.60s' (%s)",
                       cfg->peering_api_base, cfg->origin[index_of("peering_api_base")]);
    if (strcmp(cfg->log_format, "text") != 0 && strcmp(cfg->log_format, "json") != 0)
        return pf_fail(err, PF_EINVALID, "bad_log_format", "log_format",
                       "log_format must be text or json, not '%.40s' (%s)", cfg->log_format,
                       cfg->origin[index_of("log_format")]);
    return PF_OK;
}
