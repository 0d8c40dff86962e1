/* wf_env and wf_actor: what every workflow operation is given - where it
 * runs (database connection, configuration) and who asks. */
#ifndef WF_CONTEXT_H
#define WF_CONTEXT_H

#include <jansson.h>

#include "db/audit.h"
#include "db/db.h"
#include "workflow/state_machine.h"

typedef struct {
    db_conn *db;             /* borrowed; one operation at a time */
    const char *base_url;    /* public URL for links in mail, no trailing '/' */
    const char *mail_domain; /* right-hand side of Message-IDs */
    int request_ttl_seconds; /* a pending request expires after this */
    /* Submission limits per requesting network (0 = the defaults below):
     * one network must not be able to flood another's inbox. */
    int max_open_requests;
    int max_submissions_per_hour;
    /* PEERFLOW_KEY_DIR: where the BGP session secrets' key is
     * (workflow/bgp_secret.h); NULL = none, then no secret can be made. */
    const char *key_dir;
} wf_env;

#define WF_DEFAULT_TTL_SECONDS (14 * 24 * 3600)
#define WF_DEFAULT_MAX_OPEN_REQUESTS 500
#define WF_DEFAULT_MAX_SUBMISSIONS_PER_HOUR 100

typedef struct {
    wf_role role;
    long long user_id;    /* 0 unless a logged-in user or API token */
    long long network_id; /* 0 for operators and the system */
    char label[256];      /* user email, link recipient, "provisioner", "cli:root" */
    const char *via;      /* "web", "api", "email", "cli" or "system" */
    /* For decisions made through an emailed link (role WF_ROLE_CONTACT). */
    const unsigned char *token_id; /* 16 bytes */
    /* The hash of the session or API token that authenticated this user,
     * for an operator on the web: the database grants the operator scope
     * only against it (db_scope, docs/security.md). */
    bool has_credential;
    unsigned char credential[32];
    /* An API token remembered, not looked up (wf_api_actor_remembered):
     * every transaction of this actor has the database check credential
     * (the token's hash) first (db_scope.check_token). */
    bool check_token;
} wf_actor;

/* Actors the system uses for itself. */
wf_actor wf_actor_system(const char *what); /* "provisioner", "expiry", ... */
wf_actor wf_actor_cli(void);                /* operator at the shell */

/* The database scope an actor's transactions run in. */
db_scope wf_actor_scope(const wf_actor *a);

/* Fills the actor part of an audit event. */
void wf_actor_audit(const wf_actor *a, db_audit_event *ev);

/* Appends one audit event by who to c's open transaction: the object
 * (type and id), the request concerned (0 if none), and before/after as
 * JSON objects (stolen; NULL for none), written with sorted keys. */
pf_kind wf_audit(db_conn *c, const wf_actor *who, const char *action, const char *object_type,
                 const char *object_id, long long request_id, json_t *before, json_t *after,
                 pf_err *err);

#endif
