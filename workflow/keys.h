/* wf_keys: the Ed25519 keys that sign approval links (docs/security.md).
 *
 * A key directory (PEERFLOW_KEY_DIR, mode 0700) holds, per key:
 *   ID.pub   the public key, 64 hex digits           (verifies links)
 *   ID.key   the 32-byte seed, 64 hex digits, 0600   (signs links)
 *   current  the ID new links are signed with
 * where ID is 8 hex digits (4 random bytes, carried in every token). A
 * process that only verifies needs only the .pub files.
 *
 * The directory and its first key are created on first use. `peerflow
 * keys rotate` adds a key and makes it current; older keys stay and keep
 * verifying the links they signed until those expire. Deleting ID.pub and
 * ID.key revokes every link signed by ID at once.
 *
 * A wf_keyring is safe to share between threads (one mutex). It notices
 * keys added by another process (the directory's mtime changes) and
 * reloads before the next use. A reload that fails (a file it cannot
 * read or trust) keeps the keys loaded before and is tried again at the
 * next use; wf_keyring_reload_error says why.
 */
#ifndef WF_KEYS_H
#define WF_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/pf_err.h"

#define WF_KEY_ID_BYTES 4
#define WF_KEY_ID_HEX 9 /* 8 hex digits + NUL */
#define WF_SIG_BYTES 64

typedef struct wf_keyring wf_keyring;

/* Opens the key directory dir, creating it (0700) and a first key when
 * there is none. PF_EINVALID "no_key_dir" when dir is NULL or empty;
 * PF_EINTERNAL "key_dir_unusable" with the reason when it cannot be read
 * or created, or a key file is readable by others. Caller frees with
 * wf_keyring_free. */
pf_kind wf_keyring_open(const char *dir, wf_keyring **out, pf_err *err);

/* As wf_keyring_open for a process that only verifies links (the web
 * server): it reads only the .pub files - never a .key file, so a secret's
 * mode or content cannot make it fail - and creates no key (the signer,
 * the mailer, creates the first one; this keyring sees it at its next
 * use). wf_keyring_sign and _rotate refuse on it. */
pf_kind wf_keyring_open_verify(const char *dir, wf_keyring **out, pf_err *err);
void wf_keyring_free(wf_keyring *k);

/* True when the last reload failed (the keys in use are the ones loaded
 * before); *out (may be NULL) gets the error. For logs and health. */
bool wf_keyring_reload_error(wf_keyring *k, pf_err *out);

/* Adds a new key and makes it current. id_hex gets its id. */
pf_kind wf_keyring_rotate(wf_keyring *k, char id_hex[WF_KEY_ID_HEX], pf_err *err);

/* The id of the current signing key. PF_ENOTFOUND "signing_key_missing"
 * when there is none. */
pf_kind wf_keyring_current(wf_keyring *k, unsigned char id[WF_KEY_ID_BYTES], pf_err *err);

/* Signs msg with the key key_id (4 bytes), or with the current key when
 * key_id is NULL; used_id gets the id used. PF_ENOTFOUND "signing_key_missing"
 * when that key's secret is not in the directory. */
pf_kind wf_keyring_sign(wf_keyring *k, const unsigned char *key_id, const unsigned char *msg,
                        size_t len, unsigned char sig[WF_SIG_BYTES],
                        unsigned char used_id[WF_KEY_ID_BYTES], pf_err *err);

typedef enum {
    WF_VERIFY_OK = 0,
    WF_VERIFY_UNKNOWN_KEY, /* no public key with that id */
    WF_VERIFY_BAD_SIG      /* the signature does not match */
} wf_verify_result;

/* Checks sig over msg with the public key key_id, with libsodium's
 * crypto_sign_verify_detached (constant time in the secret data). */
wf_verify_result wf_keyring_verify(wf_keyring *k, const unsigned char *key_id,
                                   const unsigned char *msg, size_t len,
                                   const unsigned char sig[WF_SIG_BYTES]);

/* For `peerflow keys list`: the i-th key (by id) or false past the end. */
typedef struct {
    char id[WF_KEY_ID_HEX];
    bool can_sign; /* its secret is in the directory */
    bool current;
    long long created; /* mtime of ID.pub, unix seconds */
} wf_key_info;
bool wf_keyring_info(wf_keyring *k, size_t i, wf_key_info *out);

/* "a1b2c3d4" <-> 4 bytes. Parsing returns false on anything else. */
void wf_key_id_hex(const unsigned char id[WF_KEY_ID_BYTES], char out[WF_KEY_ID_HEX]);
bool wf_key_id_parse(const char *hex, unsigned char id[WF_KEY_ID_BYTES]);

#endif
