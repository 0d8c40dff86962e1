/* wf_bgp_secret: see bgp_secret.h. */
#include "workflow/bgp_secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE "bgp-secret.key"

void wf_bgp_secret_generate(char out[WF_BGP_SECRET_MAX])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < WF_BGP_SECRET_LEN; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[WF_BGP_SECRET_LEN] = '\0';
}

static pf_kind unusable(pf_err *err, const char *dir, const char *what)
{
    return pf_fail(err, PF_EINTERNAL, "key_dir_unusable", "key_dir", "key directory %s: %s", dir,
                   what);
}

/* Reads the key, or creates it when create is set and there is none. */
static pf_kind load_key(const char *dir, bool create, unsigned char key[32], pf_err *err)
{
    if (dir == NULL || dir[0] == '\0')
        return pf_fail(err, PF_EINVALID, "no_key_dir", "key_dir",
                       "BGP session secrets need a key directory: set PEERFLOW_KEY_DIR");
    char path[1024];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, KEY_FILE) >= sizeof path)
        return unusable(err, dir, "path too long");
    char hex[65];
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return unusable(err, dir, strerror(errno));
        crypto_secretbox_keygen(key);
        sodium_bin2hex(hex, sizeof hex, key, 32);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            bool ok = write(fd, hex, 64) == 64 && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
            close(fd);
            sodium_memzero(hex, sizeof hex);
            if (!ok)
                return unusable(err, dir, "cannot write " KEY_FILE);
            return PF_OK;
        }
        if (errno != EEXIST) /* else another process made it first: read theirs */
            return unusable(err, dir, strerror(errno));
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return errno == ENOENT
                   ? pf_fail(err, PF_ENOTFOUND, "secret_key_missing", "key_dir",
                             "key directory %s has no " KEY_FILE ": the session secrets sealed "
                             "with it cannot be read (restore it from the backup)",
                             dir)
                   : unusable(err, dir, strerror(errno));
    struct stat st;
    ssize_t n = fstat(fd, &st) == 0 ? read(fd, hex, 64) : -1;
    close(fd);
    if (n < 0)
        return unusable(err, dir, "cannot read " KEY_FILE);
    if (st.st_mode & 077)
        return unusable(err, dir, KEY_FILE " is readable by others: chmod 600 it");
    size_t bin = 0;
    bool ok = n == 64 && (hex[64] = '\0', sodium_hex2bin(key, 32, hex, 64, NULL, &bin, NULL) == 0) &&
              bin == 32;
    sodium_memzero(hex, sizeof hex);
    return ok ? PF_OK : unusable(err, dir, KEY_FILE " is not 64 hex digits");
}

pf_kind wf_bgp_secret_seal(const char *key_dir, const char *secret,
                           unsigned char nonce[WF_BGP_NONCE_LEN],
                           unsigned char sealed[WF_BGP_SEALED_MAX], size_t *len, pf_err *err)
{
    size_t n = strlen(secret);
    if (n == 0 || n >= WF_BGP_SECRET_MAX)
        return pf_fail(err, PF_EINVALID, "bad_secret", "bgp_md5", "a secret is 1 to %d characters",
                       WF_BGP_SECRET_MAX - 1);
    unsigned char key[32];
    if (load_key(key_dir, true, key, err))
        return err->kind;
    randombytes_buf(nonce, WF_BGP_NONCE_LEN);
    crypto_secretbox_easy(sealed, (const unsigned char *)secret, n, nonce, key);
    sodium_memzero(key, sizeof key);
    *len = n + crypto_secretbox_MACBYTES;
    return PF_OK;
}

pf_kind wf_bgp_secret_open(const char *key_dir, const unsigned char nonce[WF_BGP_NONCE_LEN],
                           const unsigned char *sealed, size_t len, char out[WF_BGP_SECRET_MAX],
                           pf_err *err)
{
    unsigned char key[32];
    if (len <= crypto_secretbox_MACBYTES || len - crypto_secretbox_MACBYTES >= WF_BGP_SECRET_MAX)
        return pf_fail(err, PF_EINTERNAL, "secret_unreadable", NULL, "a stored secret is damaged");
    if (load_key(key_dir, false, key, err))
        return err->kind;
    int rc = crypto_secretbox_open_easy((unsigned char *)out, sealed, len, nonce, key);
    sodium_memzero(key, sizeof key);
    if (rc != 0)
        return pf_fail(err, PF_EINTERNAL, "secret_unreadable", "key_dir",
                       "a stored session secret does not open with %s/" KEY_FILE
                       " (another key, or the row was changed)",
                       key_dir);
    out[len - crypto_secretbox_MACBYTES] = '\0';
    return PF_OK;
}
