/* pgtest: databases for integration tests on the throwaway cluster that
 * tests/run.sh starts (PEERFLOW_TEST_PG_HOST / _PORT). Each test gets its
 * own database, so tests cannot see each other's rows. */
#ifndef TESTS_PGTEST_H
#define TESTS_PGTEST_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "workflow/context.h"

typedef struct {
    char name[64];
    char app_url[512];   /* as peerflow_worker: the system and users (CLI, workers) */
    char web_url[512];   /* as peerflow_app: what serve's web connections use */
    char owner_url[512]; /* as the superuser: for set-up and tampering */
    PGconn *owner;       /* open superuser connection */
    db_conn *app;        /* open connection over app_url */
    wf_env env;          /* env over app */
} pgt_db;

/* Creates database "pft_<name>" (dropping an old one); migrates it unless
 * empty is true. Aborts the test run with a message on failure. */
void pgt_create(pgt_db *db, const char *name, bool empty);
void pgt_drop(pgt_db *db);

/* Runs SQL as the superuser; returns the first value of the first row
 * (static buffer) or "" - aborts on error unless may_fail. */
const char *pgt_sql(pgt_db *db, const char *sql);
/* Runs SQL as the superuser; returns the SQLSTATE of the error, or "" */
const char *pgt_sql_state(PGconn *c, const char *sql, char *msg, size_t msgsz);
/* Counts rows: pgt_count(db, "outbox") */
long long pgt_count(pgt_db *db, const char *table);

/* The path of the repository's migrations. */
const char *pgt_migrations_dir(void);

/* A small world: networks A (64500, admin/engineer/viewer, port a1 access,
 * a-trunk trunk), B (64501, admin, port b1), C (64502, admin, port c1),
 * switches s1, s2 with link s1:10-s2:10. Users: admin@a.example,
 * eng@a.example, view@a.example, admin@b.example, admin@c.example. */
void pgt_seed_world(pgt_db *db);

/* Actor for a seeded user (via "api"). */
wf_actor pgt_actor(pgt_db *db, const char *email);

#endif
