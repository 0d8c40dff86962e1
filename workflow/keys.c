/* wf_keys: see keys.h. */
#include "workflow/keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct key {
    unsigned char id[WF_KEY_ID_BYTES];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    bool can_sign;
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    long long created;
};

struct wf_keyring {
    pthread_mutex_t mu;
    char *dir;
    struct key *keys; /* sorted by id */
    size_t n;
    bool has_current;
    unsigned char current[WF_KEY_ID_BYTES];
    struct timespec loaded_mtime; /* of the directory when last loaded */
    bool verify_only;             /* never reads .key files, never creates keys */
    bool reload_failed;           /* the last reload failed: the keys are older */
    pf_err reload_err;            /* ... and why */
};

void wf_key_id_hex(const unsigned char id[WF_KEY_ID_BYTES], char out[WF_KEY_ID_HEX])
{
    sodium_bin2hex(out, WF_KEY_ID_HEX, id, WF_KEY_ID_BYTES);
}

bool wf_key_id_parse(const char *hex, unsigned char id[WF_KEY_ID_BYTES])
{
    if (hex == NULL || strlen(hex) != 2 * WF_KEY_ID_BYTES)
        return false;
    for (const char *p = hex; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    size_t n = 0;
    return sodium_hex2bin(id, WF_KEY_ID_BYTES, hex, strlen(hex), NULL, &n, NULL) == 0 &&
           n == WF_KEY_ID_BYTES;
}

static pf_kind unusable(pf_err *err, const char *dir, const char *what)
{
    return pf_fail(err, PF_EINTERNAL, "key_dir_unusable", "key_dir",
                   "key directory %s: %s", dir, what);
}

/* Reads a file of exactly 64 hex digits (and an optional newline) into
 * 32 bytes. */
static bool read_hex32(const char *path, unsigned char out[32], struct stat *st)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    char buf[80];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    if (st)
        fstat(fileno(f), st);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    size_t bin = 0;
    bool ok = strlen(buf) == 64 &&
              sodium_hex2bin(out, 32, buf, 64, NULL, &bin, NULL) == 0 && bin == 32;
    sodium_memzero(buf, sizeof buf);
    return ok;
}

/* Writes data to dir/name atomically: a temporary file with mode, fsync,
 * rename. */
static bool write_file(const char *dir, const char *name, const char *data, mode_t mode)
{
    char tmp[4200], path[4200];
    snprintf(tmp, sizeof tmp, "%s/.tmp.%s.%ld", dir, name, (long)getpid());
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return false;
    size_t len = strlen(data);
    bool ok = write(fd, data, len) == (ssize_t)len && fchmod(fd, mode) == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok)
        unlink(tmp);
    return ok;
}

static int key_cmp(const void *a, const void *b)
{
    return memcmp(((const struct key *)a)->id, ((const struct key *)b)->id, WF_KEY_ID_BYTES);
}

static void clear_keys(wf_keyring *k)
{
    if (k->keys)
        sodium_memzero(k->keys, k->n * sizeof *k->keys);
    free(k->keys);
    k->keys = NULL;
    k->n = 0;
    k->has_current = false;
}

static struct key *find(wf_keyring *k, const unsigned char id[WF_KEY_ID_BYTES])
{
    if (k->n == 0)
        return NULL;
    struct key probe;
    memcpy(probe.id, id, WF_KEY_ID_BYTES);
    return bsearch(&probe, k->keys, k->n, sizeof *k->keys, key_cmp);
}

static void free_keys(struct key *keys, size_t n)
{
    if (keys)
        sodium_memzero(keys, n * sizeof *keys);
    free(keys);
}

/* Loads every key of the directory into a new set, and only when all of
 * it could be read replaces the loaded one: a failed reload (a key file
 * with the wrong mode, half-written by hand, ...) keeps the keys already
 * loaded, so one bad file never turns every valid link into "retired".
 * The failure is returned and remembered (wf_keyring_reload_error). A
 * verify-only keyring reads only .pub files. Caller holds the mutex. */
static pf_kind load(wf_keyring *k, pf_err *err)
{
    struct stat dst;
    if (stat(k->dir, &dst) != 0)
        return unusable(err, k->dir, strerror(errno));
    DIR *d = opendir(k->dir);
    if (d == NULL)
        return unusable(err, k->dir, strerror(errno));
    struct key *keys = NULL;
    size_t n = 0, cap = 0;
    pf_kind rc = PF_OK;
    const struct dirent *e;
    while (rc == PF_OK && (e = readdir(d)) != NULL) {
        char idhex[WF_KEY_ID_HEX];
        size_t len = strlen(e->d_name);
        if (len != 12 || strcmp(e->d_name + 8, ".pub") != 0)
            continue;
        memcpy(idhex, e->d_name, 8);
        idhex[8] = '\0';
        struct key key = {0};
        if (!wf_key_id_parse(idhex, key.id))
            continue;
        char path[4200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", k->dir, e->d_name);
        if (!read_hex32(path, key.pk, &st)) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s.pub is not 64 hex digits: restore or delete it",
                     idhex);
            rc = unusable(err, k->dir, msg);
            break;
        }
        key.created = (long long)st.st_mtime;
        snprintf(path, sizeof path, "%s/%s.key", k->dir, idhex);
        unsigned char seed[crypto_sign_SEEDBYTES];
        struct stat kst;
        if (!k->verify_only && read_hex32(path, seed, &kst)) {
            unsigned char pk[crypto_sign_PUBLICKEYBYTES];
            if ((kst.st_mode & 077) != 0) {
                char msg[200];
                snprintf(msg, sizeof msg,
                         "secret key %s.key is readable by others: chmod 600 it", idhex);
                rc = unusable(err, k->dir, msg);
            } else if (crypto_sign_seed_keypair(pk, key.sk, seed) != 0 ||
                       sodium_memcmp(pk, key.pk, sizeof pk) != 0) {
                char msg[200];
                snprintf(msg, sizeof msg, "%s.key does not match %s.pub", idhex, idhex);
                rc = unusable(err, k->dir, msg);
            } else {
                key.can_sign = true;
            }
            sodium_memzero(seed, sizeof seed);
        }
        if (rc != PF_OK) {
            sodium_memzero(&key, sizeof key);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            struct key *nk = realloc(keys, cap * sizeof *nk);
            if (nk == NULL) {
                rc = pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
                break;
            }
            keys = nk;
        }
        keys[n++] = key;
        sodium_memzero(&key, sizeof key);
    }
    closedir(d);
    if (rc != PF_OK) {
        free_keys(keys, n);
        k->reload_failed = true;
        k->reload_err = *err;
        return rc;
    }
    if (n)
        qsort(keys, n, sizeof *keys, key_cmp);
    clear_keys(k);
    k->keys = keys;
    k->n = n;
    k->reload_failed = false;
    char path[4200], cur[64] = "";
    snprintf(path, sizeof path, "%s/current", k->dir);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(cur, sizeof cur, f) == NULL)
            cur[0] = '\0';
        fclose(f);
        cur[strcspn(cur, "\r\n")] = '\0';
        unsigned char id[WF_KEY_ID_BYTES];
        const struct key *ck = wf_key_id_parse(cur, id) ? find(k, id) : NULL;
        if (ck && ck->can_sign) {
            memcpy(k->current, id, WF_KEY_ID_BYTES);
            k->has_current = true;
        }
    }
    k->loaded_mtime = dst.st_mtim;
    return PF_OK;
}

/* Reloads when another process changed the directory. */
static pf_kind refresh(wf_keyring *k, pf_err *err)
{
    struct stat st;
    if (stat(k->dir, &st) != 0)
        return unusable(err, k->dir, strerror(errno));
    /* after a failed reload, try again at every use until it succeeds */
    if (!k->reload_failed && st.st_mtim.tv_sec == k->loaded_mtime.tv_sec &&
        st.st_mtim.tv_nsec == k->loaded_mtime.tv_nsec)
        return PF_OK;
    return load(k, err);
}

/* Creates a key and makes it current, under an flock on dir/.lock so two
 * processes starting at once do not both create a "first" key. When
 * only_if_none, does nothing if a current key appeared meanwhile. */
static pf_kind create_key(wf_keyring *k, bool only_if_none, char id_hex[WF_KEY_ID_HEX],
                          pf_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", k->dir);
    int lk = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lk < 0 || flock(lk, LOCK_EX) != 0) {
        if (lk >= 0)
            close(lk);
        return unusable(err, k->dir, strerror(errno));
    }
    pf_kind rc = load(k, err);
    if (rc == PF_OK && !(only_if_none && k->has_current)) {
        unsigned char id[WF_KEY_ID_BYTES], seed[crypto_sign_SEEDBYTES],
            pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
        do
            randombytes_buf(id, sizeof id);
        while (find(k, id) != NULL);
        randombytes_buf(seed, sizeof seed);
        crypto_sign_seed_keypair(pk, sk, seed);
        char hex[WF_KEY_ID_HEX], name[32], text[2 * 32 + 2];
        wf_key_id_hex(id, hex);
        sodium_bin2hex(text, sizeof text - 1, seed, sizeof seed);
        strcat(text, "\n");
        snprintf(name, sizeof name, "%s.key", hex);
        bool ok = write_file(k->dir, name, text, 0600);
        sodium_bin2hex(text, sizeof text - 1, pk, sizeof pk);
        strcat(text, "\n");
        snprintf(name, sizeof name, "%s.pub", hex);
        ok = ok && write_file(k->dir, name, text, 0644);
        char cur[16];
        snprintf(cur, sizeof cur, "%s\n", hex);
        /* the new key exists before it becomes current */
        ok = ok && write_file(k->dir, "current", cur, 0644);
        sodium_memzero(seed, sizeof seed);
        sodium_memzero(sk, sizeof sk);
        sodium_memzero(text, sizeof text);
        if (!ok)
            rc = unusable(err, k->dir, strerror(errno));
        else
            rc = load(k, err);
        if (rc == PF_OK && id_hex)
            snprintf(id_hex, WF_KEY_ID_HEX, "%s", hex);
    }
    flock(lk, LOCK_UN);
    close(lk);
    return rc;
}

static pf_kind make_dirs(const char *dir, pf_err *err)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return unusable(err, dir, "path too long");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return unusable(err, dir, strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return unusable(err, dir, strerror(errno));
    struct stat st;
    if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
        return unusable(err, dir, "not a directory");
    if ((st.st_mode & 022) != 0)
        return unusable(err, dir, "writable by others: chmod 700 it");
    return PF_OK;
}

static pf_kind open_keyring(const char *dir, bool verify_only, wf_keyring **out, pf_err *err)
{
    *out = NULL;
    if (dir == NULL || *dir == '\0')
        return pf_fail(err, PF_EINVALID, "no_key_dir", "key_dir",
                       "no key directory for approval links: set PEERFLOW_KEY_DIR "
                       "(it is created on first use)");
    if (make_dirs(dir, err))
        return err->kind;
    wf_keyring *k = calloc(1, sizeof *k);
    if (k == NULL || (k->dir = strdup(dir)) == NULL) {
        free(k);
        return pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
    }
    pthread_mutex_init(&k->mu, NULL);
    k->verify_only = verify_only;
    pf_kind rc = load(k, err);
    /* a verifier never creates a secret: the signer (the mailer) does */
    if (rc == PF_OK && !k->has_current && !verify_only)
        rc = create_key(k, true, NULL, err);
    if (rc != PF_OK) {
        wf_keyring_free(k);
        return rc;
    }
    *out = k;
    return PF_OK;
}

pf_kind wf_keyring_open(const char *dir, wf_keyring **out, pf_err *err)
{
    return open_keyring(dir, false, out, err);
}

pf_kind wf_keyring_open_verify(const char *dir, wf_keyring **out, pf_err *err)
{
    return open_keyring(dir, true, out, err);
}

bool wf_keyring_reload_error(wf_keyring *k, pf_err *out)
{
    pthread_mutex_lock(&k->mu);
    bool failed = k->reload_failed;
    if (failed && out)
        *out = k->reload_err;
    pthread_mutex_unlock(&k->mu);
    return failed;
}

void wf_keyring_free(wf_keyring *k)
{
    if (k == NULL)
        return;
    clear_keys(k);
    pthread_mutex_destroy(&k->mu);
    free(k->dir);
    free(k);
}

pf_kind wf_keyring_rotate(wf_keyring *k, char id_hex[WF_KEY_ID_HEX], pf_err *err)
{
    if (k->verify_only)
        return pf_fail(err, PF_EINVALID, "keyring_verify_only", "key_dir",
                       "this process only verifies links and cannot create keys: run "
                       "peerflow keys rotate");
    pthread_mutex_lock(&k->mu);
    pf_kind rc = create_key(k, false, id_hex, err);
    pthread_mutex_unlock(&k->mu);
    return rc;
}

pf_kind wf_keyring_sign(wf_keyring *k, const unsigned char *key_id, const unsigned char *msg,
                        size_t len, unsigned char sig[WF_SIG_BYTES],
                        unsigned char used_id[WF_KEY_ID_BYTES], pf_err *err)
{
    pthread_mutex_lock(&k->mu);
    /* the signer does not sign with keys of a directory it cannot read
     * completely: the mail waits, with this error, until it is fixed */
    pf_kind rc = refresh(k, err);
    const struct key *key = NULL;
    if (rc == PF_OK && k->verify_only)
        rc = pf_fail(err, PF_ENOTFOUND, "signing_key_missing", "key_dir",
                     "this keyring only verifies links (it never reads secret keys)");
    if (rc == PF_OK) {
        if (key_id == NULL && !k->has_current)
            rc = pf_fail(err, PF_ENOTFOUND, "signing_key_missing", "key_dir",
                         "key directory %s has no current signing key: run peerflow keys rotate",
                         k->dir);
        else if ((key = find(k, key_id ? key_id : k->current)) == NULL || !key->can_sign) {
            char hex[WF_KEY_ID_HEX];
            wf_key_id_hex(key_id ? key_id : k->current, hex);
            rc = pf_fail(err, PF_ENOTFOUND, "signing_key_missing", "key_dir",
                         "signing key %s is not in %s (revoked?)", hex, k->dir);
        }
    }
    if (rc == PF_OK) {
        crypto_sign_detached(sig, NULL, msg, len, key->sk);
        memcpy(used_id, key->id, WF_KEY_ID_BYTES);
    }
    pthread_mutex_unlock(&k->mu);
    return rc;
}

pf_kind wf_keyring_current(wf_keyring *k, unsigned char id[WF_KEY_ID_BYTES], pf_err *err)
{
    pthread_mutex_lock(&k->mu);
    pf_kind rc = refresh(k, err);
    if (rc == PF_OK && !k->has_current)
        rc = pf_fail(err, PF_ENOTFOUND, "signing_key_missing", "key_dir",
                     "key directory %s has no current signing key: run peerflow keys rotate",
                     k->dir);
    if (rc == PF_OK)
        memcpy(id, k->current, WF_KEY_ID_BYTES);
    pthread_mutex_unlock(&k->mu);
    return rc;
}

wf_verify_result wf_keyring_verify(wf_keyring *k, const unsigned char *key_id,
                                   const unsigned char *msg, size_t len,
                                   const unsigned char sig[WF_SIG_BYTES])
{
    pthread_mutex_lock(&k->mu);
    pf_err ignored;
    /* a failed reload keeps the keys already loaded (load() replaces them
     * only on success); wf_keyring_reload_error tells why */
    (void)refresh(k, &ignored);
    const struct key *key = find(k, key_id);
    wf_verify_result r = WF_VERIFY_UNKNOWN_KEY;
    if (key != NULL)
        r = crypto_sign_verify_detached(sig, msg, len, key->pk) == 0 ? WF_VERIFY_OK
                                                                     : WF_VERIFY_BAD_SIG;
    pthread_mutex_unlock(&k->mu);
    return r;
}

bool wf_keyring_info(wf_keyring *k, size_t i, wf_key_info *out)
{
    pthread_mutex_lock(&k->mu);
    bool ok = i < k->n;
    if (ok) {
        const struct key *key = &k->keys[i];
        wf_key_id_hex(key->id, out->id);
        out->can_sign = key->can_sign;
        out->current = k->has_current && memcmp(key->id, k->current, WF_KEY_ID_BYTES) == 0;
        out->created = key->created;
    }
    pthread_mutex_unlock(&k->mu);
    return ok;
}
