/* db_outbox: delivery side of the mail outbox (db/queue.h writes it).
 *
 * A worker claims due messages with FOR UPDATE SKIP LOCKED and, in the
 * same statement, counts the attempt and leases them: next_attempt_at
 * moves lease_seconds ahead, so no other worker takes them while this
 * one delivers outside any transaction. It then records the outcome:
 * delivered_at, or last_error and the next try, or dead_at (a dead
 * letter: never claimed again). A worker that dies mid-delivery loses
 * nothing: the lease runs out and the message is due again
 * (docs/mail.md). */
#ifndef DB_OUTBOX_H
#define DB_OUTBOX_H

#include <stdbool.h>

#include "db/db.h"

typedef struct {
    long long id;
    long long request_id;   /* 0 if none */
    long long network_id;   /* 0 if none */
    char *kind;             /* owned */
    char *message_id;       /* owned */
    char *recipients;       /* JSON array of addresses (owned) */
    char *subject;          /* owned */
    char *body;             /* owned */
    bool has_token;
    unsigned char token_id[16];
    long long created;      /* unix seconds: the message's Date */
    int attempts;           /* including this one */
} db_outbox_item;

/* Claims up to max due, undelivered, not dead messages, oldest due first, in the
 * caller's transaction (operator scope). *items (caller frees with
 * db_outbox_items_free) and *n get them. */
pf_kind db_outbox_claim(db_conn *c, int max, int lease_seconds, db_outbox_item **items,
                        int *n, pf_err *err);
void db_outbox_items_free(db_outbox_item *items, int n);

pf_kind db_outbox_mark_delivered(db_conn *c, long long id, pf_err *err);
/* Records a failed attempt: error (cut to 1000 bytes), next try in
 * retry_seconds. */
pf_kind db_outbox_mark_failed(db_conn *c, long long id, int retry_seconds, const char *error,
                              pf_err *err);
/* Makes it a dead letter: dead_at = now(), last_error = error (cut to
 * 1000 bytes); it is never claimed again. */
pf_kind db_outbox_mark_dead(db_conn *c, long long id, const char *error, pf_err *err);

#endif
