/* pgtest: see pgtest.h. */
#include "tests/support/pgtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/migrate.h"
#include "workflow/admin.h"
#include "workflow/queries.h"

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "pgtest: %s: %s\n", what, detail ? detail : "");
    exit(2);
}

const char *pgt_migrations_dir(void)
{
    const char *d = getenv("PEERFLOW_MIGRATIONS_DIR");
    return d ? d : "migrations";
}

void pgt_create(pgt_db *db, const char *name, bool empty)
{
    const char *host = getenv("PEERFLOW_TEST_PG_HOST"), *port = getenv("PEERFLOW_TEST_PG_PORT");
    if (host == NULL || port == NULL)
        die("environment", "PEERFLOW_TEST_PG_HOST/PORT unset: run through tests/run.sh");
    memset(db, 0, sizeof *db);
    snprintf(db->name, sizeof db->name, "pft_%s", name);
    char url[512];
    snprintf(url, sizeof url, "host=%s port=%s dbname=postgres user=peerflow", host, port);
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        die("connect", PQerrorMessage(c));
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", db->name);
    PQclear(PQexec(c, sql));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db->name);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die("create database", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(db->owner_url, sizeof db->owner_url, "host=%s port=%s dbname=%s user=peerflow",
             host, port, db->name);
    /* the suites act as users and as the system (seeding, provisioning):
     * the worker role does both, with row-level security for users */
    snprintf(db->app_url, sizeof db->app_url, "host=%s port=%s dbname=%s user=peerflow_worker",
             host, port, db->name);
    snprintf(db->web_url, sizeof db->web_url, "host=%s port=%s dbname=%s user=peerflow_app",
             host, port, db->name);
    db->owner = PQconnectdb(db->owner_url);
    if (PQstatus(db->owner) != CONNECTION_OK)
        die("connect owner", PQerrorMessage(db->owner));
    PQclear(PQexec(db->owner, "SET client_min_messages = warning"));
    if (!empty) {
        pf_err err;
        db_conn *mc = db_connect(db->owner_url, &err);
        if (mc == NULL || db_migrate_apply(mc, pgt_migrations_dir(), NULL, &err) != PF_OK)
            die("migrate", err.message);
        db_close(mc);
        pf_err e2;
        db->app = db_connect_as(db->app_url, DB_ROLE_WORKER, &e2);
        if (db->app == NULL)
            die("connect app", e2.message);
        db->env.db = db->app;
        db->env.base_url = "http://peerflow.test";
        db->env.mail_domain = "peerflow.test";
        db->env.request_ttl_seconds = 3600;
    }
}

void pgt_drop(pgt_db *db)
{
    db_close(db->app);
    PQfinish(db->owner);
    db->app = NULL;
    db->owner = NULL;
}

const char *pgt_sql(pgt_db *db, const char *sql)
{
    static char buf[4096];
    PGresult *r = PQexec(db->owner, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s -- %s", sql, PQresultErrorMessage(r));
        die("sql", msg);
    }
    buf[0] = '\0';
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0)
        snprintf(buf, sizeof buf, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return buf;
}

const char *pgt_sql_state(PGconn *c, const char *sql, char *msg, size_t msgsz)
{
    static char state[8];
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    state[0] = '\0';
    if (msg)
        msg[0] = '\0';
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        snprintf(state, sizeof state, "%s", s ? s : "?????");
        if (msg)
            snprintf(msg, msgsz, "%s", PQresultErrorMessage(r));
    }
    PQclear(r);
    return state;
}

long long pgt_count(pgt_db *db, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return atoll(pgt_sql(db, sql));
}

static void must(pf_kind k, const pf_err *err, const char *what)
{
    if (k != PF_OK)
        die(what, err->message);
}

void pgt_seed_world(pgt_db *db)
{
    wf_actor op = wf_actor_cli();
    pf_err err;
    long long id;
    const char *ca[] = {"noc@a.example"}, *cb[] = {"peering@b.example"},
               *cc[] = {"peering@c.example"};
    wf_network_input na = {"64500", "Net A", "selective", ca, 1, false};
    wf_network_input nb = {"64501", "Net B", "selective", cb, 1, false};
    wf_network_input nc = {"64502", "Net C", "open", cc, 1, false};
    must(wf_network_add(&db->env, &op, &na, &id, &err), &err, "network A");
    must(wf_network_add(&db->env, &op, &nb, &id, &err), &err, "network B");
    must(wf_network_add(&db->env, &op, &nc, &id, &err), &err, "network C");
    wf_switch_input s1 = {"s1", "1", "unix:/tmp/s1.mgmt"}, s2 = {"s2", "2", NULL};
    must(wf_switch_add(&db->env, &op, &s1, &id, &err), &err, "s1");
    must(wf_switch_add(&db->env, &op, &s2, &id, &err), &err, "s2");
    must(wf_link_add(&db->env, &op, "s1:10", "s2:10", &id, &err), &err, "link");
    wf_port_input ports[] = {
        {"64500", "s1", "1", "a1", "access", "10000"},
        {"64500", "s1", "2", "a-trunk", "trunk", "10000"},
        {"64501", "s2", "1", "b1", "access", NULL},
        {"64502", "s2", "2", "c1", "access", NULL},
    };
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
        must(wf_port_add(&db->env, &op, &ports[i], &id, &err), &err, "port");
    wf_user_input users[] = {
        {"admin@a.example", "64500", "admin", NULL},   {"eng@a.example", "64500", "engineer", NULL},
        {"view@a.example", "64500", "viewer", NULL},   {"admin@b.example", "64501", "admin", NULL},
        {"admin@c.example", "64502", "admin", NULL},   {"op@ix.example", NULL, "operator", NULL},
    };
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
        must(wf_user_add(&db->env, &op, &users[i], &id, &err), &err, "user");
}

wf_actor pgt_actor(pgt_db *db, const char *email)
{
    wf_actor a;
    pf_err err;
    must(wf_actor_for_user(&db->env, email, "api", &a, &err), &err, email);
    return a;
}
