/* db_directory: see directory.h. */
#include "db/directory.h"
#include "db/db_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const db_stmt ins_network = {
    "pf_network_insert",
    "INSERT INTO networks (asn, name, policy, contacts, auto_approve)"
    " VALUES ($1, $2, $3, ARRAY(SELECT json_array_elements_text($4::json)), $5)"
    " RETURNING id",
    5};

#define NETWORK_COLS "id, asn, name, policy, array_to_json(contacts), auto_approve"

static const db_stmt network_by_asn = {
    "pf_network_by_asn", "SELECT " NETWORK_COLS " FROM networks WHERE asn = $1", 1};
static const db_stmt network_by_id = {
    "pf_network_by_id", "SELECT " NETWORK_COLS " FROM networks WHERE id = $1", 1};

static const db_stmt ins_user = {
    "pf_user_insert",
    "INSERT INTO users (email, network_id, role, password_hash) VALUES ($1, $2, $3, $4)"
    " RETURNING id",
    4};
static const db_stmt user_by_email = {
    "pf_user_by_email",
    "SELECT id, email, network_id, role, password_hash, disabled FROM pf_user_by_email($1)",
    1};
static const db_stmt set_disabled = {
    "pf_user_set_disabled",
    "UPDATE users u SET disabled = $2 FROM users old WHERE old.id = u.id"
    " AND lower(u.email) = lower($1)"
    " RETURNING u.id, u.email, u.network_id, u.role, '', old.disabled",
    2};
static const db_stmt set_password = {
    "pf_user_set_password", "UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING id", 2};
static const db_stmt ins_api_token = {
    "pf_api_token_insert",
    "INSERT INTO api_tokens (user_id, name, token_hash) VALUES ($1, $2, decode($3, 'hex'))"
    " RETURNING id",
    3};

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

pf_kind db_network_insert(db_conn *c, const db_network *n, long long *id, pf_err *err)
{
    json_t *arr = json_array();
    for (int i = 0; i < n->n_contacts; i++)
        json_array_append_new(arr, json_string(n->contacts[i]));
    char *contacts = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    char asn[24];
    const char *p[5] = {db_fmt_ll(asn, n->asn), n->name, n->policy, contacts,
                        n->auto_approve ? "true" : "false"};
    PGresult *r = db_exec(c, &ins_network, p, err);
    free(contacts);
    if (r == NULL)
        return err->kind;
    *id = db_ll(r, 0, 0);
    PQclear(r);
    return PF_OK;
}

static void network_from_row(const PGresult *r, db_network *out)
{
    memset(out, 0, sizeof *out);
    out->id = db_ll(r, 0, 0);
    out->asn = db_ll(r, 0, 1);
    copy(out->name, sizeof out->name, db_val(r, 0, 2));
    copy(out->policy, sizeof out->policy, db_val(r, 0, 3));
    json_t *arr = json_loads(db_val(r, 0, 4), 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (out->n_contacts == DB_MAX_CONTACTS)
            break;
        copy(out->contacts[out->n_contacts++], sizeof out->contacts[0], json_string_value(v));
    }
    json_decref(arr);
    out->auto_approve = db_bool(r, 0, 5);
}

pf_kind db_network_by_asn(db_conn *c, long long asn, db_network *out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, asn)};
    PGresult *r = db_exec(c, &network_by_asn, p, err);
    if (r == NULL)
        return err->kind;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return pf_fail(err, PF_ENOTFOUND, "unknown_asn", "asn",
                       "no network with ASN %lld is registered on this exchange", asn);
    }
    network_from_row(r, out);
    PQclear(r);
    return PF_OK;
}

pf_kind db_network_by_id(db_conn *c, long long id, db_network *out, pf_err *err)
{
    char b[24];
    const char *p[1] = {db_fmt_ll(b, id)};
    PGresult *r = db_exec_one(c, &network_by_id, p, "unknown_network", "no such network", err);
    if (r == NULL)
        return err->kind;
    network_from_row(r, out);
    PQclear(r);
    return PF_OK;
}

pf_kind db_user_insert(db_conn *c, const db_user *u, long long *id, pf_err *err)
{
    char nb[24];
    const char *p[4] = {u->email, db_fmt_id(nb, u->network_id), u->role,
                        u->password_hash[0] ? u->password_hash : NULL};
    PGresult *r = db_exec(c, &ins_user, p, err);
    if (r == NULL)
        return err->kind;
    *id = db_ll(r, 0, 0);
    PQclear(r);
    return PF_OK;
}

static pf_kind user_row(PGresult *r, const char *email, db_user *out, pf_err *err)
{
    if (PQntuples(r) != 1) {
        PQclear(r);
        return pf_fail(err, PF_ENOTFOUND, "unknown_user", "email", "no user with email %s",
                       email);
    }
    if (out == NULL) {
        PQclear(r);
        return PF_OK;
    }
    memset(out, 0, sizeof *out);
    out->id = db_ll(r, 0, 0);
    copy(out->email, sizeof out->email, db_val(r, 0, 1));
    out->network_id = db_ll(r, 0, 2);
    copy(out->role, sizeof out->role, db_val(r, 0, 3));
    copy(out->password_hash, sizeof out->password_hash, db_val(r, 0, 4));
    out->disabled = db_bool(r, 0, 5);
    PQclear(r);
    return PF_OK;
}

pf_kind db_user_by_email(db_conn *c, const char *email, db_user *out, pf_err *err)
{
    const char *p[1] = {email};
    PGresult *r = db_exec(c, &user_by_email, p, err);
    if (r == NULL)
        return err->kind;
    return user_row(r, email, out, err);
}

pf_kind db_user_set_disabled(db_conn *c, const char *email, bool disabled, db_user *out,
                             pf_err *err)
{
    const char *p[2] = {email, disabled ? "true" : "false"};
    PGresult *r = db_exec(c, &set_disabled, p, err);
    if (r == NULL)
        return err->kind;
    return user_row(r, email, out, err);
}

pf_kind db_user_set_password(db_conn *c, long long id, const char *hash, pf_err *err)
{
    char b[24];
    const char *p[2] = {db_fmt_ll(b, id), hash};
    PGresult *r = db_exec_one(c, &set_password, p, "unknown_user", "no such user", err);
    if (r == NULL)
        return err->kind;
    PQclear(r);
    return PF_OK;
}

pf_kind db_api_token_insert(db_conn *c, long long user_id, const char *name,
                            const unsigned char hash[32], long long *id, pf_err *err)
{
    static const char hex[] = "0123456789abcdef";
    char h[65], ub[24];
    for (int i = 0; i < 32; i++) {
        h[2 * i] = hex[hash[i] >> 4];
        h[2 * i + 1] = hex[hash[i] & 15];
    }
    h[64] = '\0';
    const char *p[3] = {db_fmt_ll(ub, user_id), name, h};
    PGresult *r = db_exec(c, &ins_api_token, p, err);
    if (r == NULL)
        return err->kind;
    *id = db_ll(r, 0, 0);
    PQclear(r);
    return PF_OK;
}
