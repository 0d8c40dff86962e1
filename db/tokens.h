/* db_tokens: approval-link tokens (table approval_tokens). The database
 * keeps a token's id, what it allows, the contact it was mailed to, and
 * once signed its key id and BLAKE2b-256 hash - never the token text
 * (docs/security.md). All functions run inside the caller's transaction. */
#ifndef DB_TOKENS_H
#define DB_TOKENS_H

#include <stdbool.h>

#include "db/db.h"

typedef struct {
    unsigned char id[16];
    long long request_id;
    long long network_id; /* the side the link decides for */
    char contact[255];
    unsigned actions;     /* bit 0 approve, bit 1 reject */
    bool bound;           /* key_id and hash are set */
    char key_id[9];       /* 8 hex digits, "" until bound */
    unsigned char hash[32];
    long long expires;    /* unix seconds */
    bool used;
    long long change_id;  /* the change of a live circuit it decides; 0 = the request */
} db_token;

/* Inserts a token for t's id, request, network, contact, actions and
 * change. It expires ttl_seconds from now, or - a token of the request
 * itself - with its request if that is sooner (whole seconds: the signed
 * expiry is exact). */
pf_kind db_token_insert(db_conn *c, const db_token *t, int ttl_seconds, pf_err *err);

/* Reads token id, row-locked (FOR UPDATE) when lock. PF_ENOTFOUND
 * "token_unknown" when there is none (or it is not visible). */
pf_kind db_token_get(db_conn *c, const unsigned char id[16], bool lock, db_token *out,
                     pf_err *err);

/* Records the key and hash of the signed token. */
pf_kind db_token_bind(db_conn *c, const unsigned char id[16], const char *key_id,
                      const unsigned char hash[32], pf_err *err);

/* Marks the token used now; PF_ECONFLICT "token_used" if it already was. */
pf_kind db_token_mark_used(db_conn *c, const unsigned char id[16], pf_err *err);

#endif
