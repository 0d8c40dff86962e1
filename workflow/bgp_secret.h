/* wf_bgp_secret: the TCP-MD5 secrets of BGP sessions, generated here and
 * stored only sealed (libsodium secretbox, XSalsa20-Poly1305).
 *
 * The key is KEY_DIR/bgp-secret.key (PEERFLOW_KEY_DIR, the directory of
 * the approval-link keys): 64 hex digits, mode 0600, created on first
 * use. A backup of the database without that file cannot reveal a
 * secret; restoring one needs both (docs/bgp.md). */
#ifndef WF_BGP_SECRET_H
#define WF_BGP_SECRET_H

#include <stddef.h>

#include "common/pf_err.h"

#define WF_BGP_SECRET_LEN 24 /* characters of a generated secret */
#define WF_BGP_SECRET_MAX 81 /* longest secret + NUL */
#define WF_BGP_NONCE_LEN 24
#define WF_BGP_SEALED_MAX (WF_BGP_SECRET_MAX + 16)

/* A new secret of WF_BGP_SECRET_LEN characters from [A-Za-z0-9], which
 * every router dialect takes without quoting trouble. */
void wf_bgp_secret_generate(char out[WF_BGP_SECRET_MAX]);

/* Seals secret with the key of key_dir (creating it when missing):
 * fills nonce and sealed (*len bytes). PF_EINVALID "no_key_dir" when
 * key_dir is NULL; PF_EINTERNAL "key_dir_unusable" when the key cannot be
 * read, written or trusted (readable by others). */
pf_kind wf_bgp_secret_seal(const char *key_dir, const char *secret,
                           unsigned char nonce[WF_BGP_NONCE_LEN],
                           unsigned char sealed[WF_BGP_SEALED_MAX], size_t *len, pf_err *err);

/* Opens a sealed secret into out. PF_EINTERNAL "secret_unreadable" when
 * it does not authenticate (another key, a changed row). */
pf_kind wf_bgp_secret_open(const char *key_dir, const unsigned char nonce[WF_BGP_NONCE_LEN],
                           const unsigned char *sealed, size_t len,
                           char out[WF_BGP_SECRET_MAX], pf_err *err);

#endif
