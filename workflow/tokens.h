/* wf_tokens: the approval-link token codec (docs/security.md). No
 * database: signs and verifies with a wf_keyring only, so it is unit- and
 * fuzz-tested alone.
 *
 * Bytes (all integers big-endian), then base64url without padding:
 *
 *   off len
 *     0   1  version (1)
 *     1   4  key id
 *     5  16  token id (random)
 *    21   8  request id
 *    29   8  network id (the side the link decides for)
 *    37   1  allowed actions: bit 0 approve, bit 1 reject
 *    38   8  expiry, unix seconds
 *    46  64  Ed25519 signature of "peerflow approval token v1" (26 bytes,
 *            no NUL) followed by bytes 0..45
 *
 * 110 bytes, 147 characters. Decoding is strict: only the canonical
 * encoding of exactly 110 bytes is accepted, so every other string is
 * refused before any key is looked up.
 */
#ifndef WF_TOKENS_H
#define WF_TOKENS_H

#include <stdbool.h>

#include "common/pf_err.h"
#include "workflow/keys.h"

#define WF_TOKEN_VERSION 1
#define WF_TOKEN_ID_BYTES 16
#define WF_TOKEN_BYTES 110
#define WF_TOKEN_TEXT_LEN 147        /* characters of an encoded token */
#define WF_TOKEN_TEXT_MAX (WF_TOKEN_TEXT_LEN + 1)
#define WF_TOKEN_HASH_BYTES 32
#define WF_TOKEN_TTL_SECONDS (7 * 24 * 3600) /* spec: links expire after 7 days */

enum { WF_TOKEN_APPROVE = 1, WF_TOKEN_REJECT = 2 };

typedef struct {
    unsigned char key_id[WF_KEY_ID_BYTES];
    unsigned char id[WF_TOKEN_ID_BYTES];
    long long request_id;
    long long network_id;
    unsigned actions;  /* WF_TOKEN_APPROVE | WF_TOKEN_REJECT */
    long long expires; /* unix seconds */
} wf_token;

/* Signs t with the key t->key_id, or the current key when use_current
 * (then t->key_id is set to it), and writes the text to out. Ed25519 is
 * deterministic: the same t and key always give the same text. */
pf_kind wf_token_encode(wf_keyring *keys, wf_token *t, bool use_current,
                        char out[WF_TOKEN_TEXT_MAX], pf_err *err);

/* Parses and verifies text at time now (unix seconds). Refusals, each
 * with its own code:
 *   PF_EINVALID   token_malformed      not base64url, wrong length, bad version
 *   PF_EFORBIDDEN token_unknown_key    signed by a key not in the directory
 *   PF_EFORBIDDEN token_bad_signature  tampered with, or a forged signature
 *   PF_ECONFLICT  token_expired        past its expiry (checked after the
 *                                      signature, so the expiry is trusted)
 * The signature is checked by crypto_sign_verify_detached (constant time).
 * *out is filled only on PF_OK. */
pf_kind wf_token_decode(wf_keyring *keys, const char *text, long long now, wf_token *out,
                        pf_err *err);

/* BLAKE2b-256 of the token text: what the database stores. */
void wf_token_hash(const char *text, unsigned char out[WF_TOKEN_HASH_BYTES]);

/* "approve" / "reject" -> bit, 0 for anything else. */
unsigned wf_token_action(const char *name);

#endif
