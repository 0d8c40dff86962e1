/* db_directory: networks, users and API tokens - who is who.
 * All functions run inside the caller's transaction (db_begin). */
#ifndef DB_DIRECTORY_H
#define DB_DIRECTORY_H

#include <stdbool.h>

#include "db/db.h"

#define DB_MAX_CONTACTS 8

typedef struct {
    long long id;
    long long asn;
    char name[101];
    char policy[16];
    int n_contacts;
    char contacts[DB_MAX_CONTACTS][255];
    bool auto_approve;
} db_network;

typedef struct {
    long long id;
    char email[255];
    long long network_id; /* 0 for operators */
    char role[16];
    char password_hash[256]; /* "" when no password set */
    bool disabled;
} db_user;

/* Inserts n (id ignored) and sets *id. */
pf_kind db_network_insert(db_conn *c, const db_network *n, long long *id, pf_err *err);
/* PF_ENOTFOUND "unknown_asn" when there is no such network. */
pf_kind db_network_by_asn(db_conn *c, long long asn, db_network *out, pf_err *err);
pf_kind db_network_by_id(db_conn *c, long long id, db_network *out, pf_err *err);

pf_kind db_user_insert(db_conn *c, const db_user *u, long long *id, pf_err *err);
/* Case-insensitive; PF_ENOTFOUND "unknown_user". */
pf_kind db_user_by_email(db_conn *c, const char *email, db_user *out, pf_err *err);

/* Sets users.disabled; PF_ENOTFOUND "unknown_user". Fills *out (the
 * user as it was before) when out is not NULL. */
pf_kind db_user_set_disabled(db_conn *c, const char *email, bool disabled, db_user *out,
                             pf_err *err);
/* Replaces the password hash of user id. */
pf_kind db_user_set_password(db_conn *c, long long id, const char *hash, pf_err *err);

/* Stores the hash of a new API token for user_id. */
pf_kind db_api_token_insert(db_conn *c, long long user_id, const char *name,
                            const unsigned char hash[32], long long *id, pf_err *err);

#endif
