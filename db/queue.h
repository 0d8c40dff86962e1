/* db_queue: the outbox (email) and job (provisioning) queues. Rows are
 * written in the transaction of the change they announce, so a change is
 * never committed without its mail and its job, nor the other way round. */
#ifndef DB_QUEUE_H
#define DB_QUEUE_H

#include "db/db.h"

typedef struct {
    const char *kind;        /* "approval_needed", "request_approved", ... */
    long long request_id;    /* 0 if none */
    long long network_id;    /* recipient network, 0 for operators */
    const char *recipients;  /* JSON array of addresses, e.g. ["a@b.example"] */
    const char *subject;
    const char *body;
    const unsigned char *token_id; /* 16 bytes, for approval links; or NULL */
    const char *message_id;  /* "<...@...>", stable across delivery attempts */
} db_outbox_msg;

/* In a transaction the insert is queued (db_defer, db/db_internal.h): it
 * goes out with the transaction's next statement or its COMMIT, and an
 * error in it is that statement's error. */
pf_kind db_outbox_insert(db_conn *c, const db_outbox_msg *m, pf_err *err);

/* The NOTIFY channel a new job is announced on. */
#define DB_JOBS_CHANNEL "peerflow_jobs"

/* Enqueues a job ("provision" or "teardown") for request_id; a no-op when
 * one of that kind is already open for it. Listeners on DB_JOBS_CHANNEL
 * are notified when the transaction commits. Queued like db_outbox_insert. */
pf_kind db_job_enqueue(db_conn *c, const char *kind, long long request_id, pf_err *err);

/* An operator's retry: the open job of that kind for request_id (queued or
 * running) is queued again to run now, as a fresh attempt; without one, a
 * job is enqueued. Either way an open job exists when the transaction
 * commits. */
pf_kind db_job_requeue(db_conn *c, const char *kind, long long request_id, pf_err *err);

#endif
