/* db_audit: the append-only, hash-chained audit log.
 *
 * Each row's hash is BLAKE2b-256 (libsodium crypto_generichash) of the
 * previous row's hash followed by the row's canonical encoding: its
 * fields, each written as "<decimal length>:<bytes>" or "-" for NULL, in
 * the order of db_audit_fields. seq has no gaps; audit_head holds the last
 * seq and hash, so a deleted tail is noticed too.
 *
 * Writing takes the lock on audit_head until the commit: audit writes are
 * serialized, which is what keeps the chain linear. So that the lock is
 * held as briefly as possible, events appended in a transaction are queued
 * and written by db_commit just before COMMIT, in the order appended.
 */
#ifndef DB_AUDIT_H
#define DB_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

#define DB_AUDIT_HASH_BYTES 32

typedef struct {
    const char *actor_kind;  /* "user", "email", "system" or "cli" */
    long long actor_user_id; /* 0 if not a user */
    const char *actor_label; /* user email, recipient address, "provisioner"... */
    long long network_id;    /* acting network, 0 if none */
    const char *action;      /* "request.submitted", "port.added", ... */
    const char *object_type; /* "request", "network", "switch", ... */
    const char *object_id;
    long long request_id;    /* the request concerned, 0 if none */
    const char *before;      /* JSON text or NULL */
    const char *after;       /* JSON text or NULL */
} db_audit_event;

/* Appends ev to the caller's open transaction (copied; written at its
 * commit, gone with its rollback). */
pf_kind db_audit_append(db_conn *c, const db_audit_event *ev, pf_err *err);

typedef struct {
    bool ok;
    long long rows;       /* rows checked */
    long long bad_seq;    /* first bad row (0 when ok) */
    char problem[300];    /* what is wrong there, for a person */
    char head_hash[65];   /* hex of the last hash: publish it to anchor the log */
} db_audit_verdict;

/* Walks the whole log. Returns PF_OK when the walk itself worked; the
 * verdict says whether the log is intact. Opens its own transaction. */
pf_kind db_audit_verify(db_conn *c, db_audit_verdict *v, pf_err *err);

/* The canonical hash of one row: prev (32 bytes) and its 12 fields in
 * order seq, at, actor_kind, actor_user_id, actor_label, network_id,
 * action, object_type, object_id, request_id, before, after (NULL = SQL
 * NULL). Exposed for unit tests. */
enum { DB_AUDIT_NFIELDS = 12 };
void db_audit_hash(const unsigned char prev[DB_AUDIT_HASH_BYTES],
                   const char *const fields[DB_AUDIT_NFIELDS],
                   unsigned char out[DB_AUDIT_HASH_BYTES]);

#endif
