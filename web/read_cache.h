/* web_read_cache: the API's recent answers to GET /api/v1/requests/ID,
 * kept so that a read whose request has not changed costs the database
 * one index probe instead of the request's whole statement.
 *
 * An answer is kept with the request's stamp read in the same snapshot
 * as the answer (migrations/0020_request_touches.sql: the stamp grows with
 * every committed change to anything the answer shows). It is served
 * again only after the database, in the read's one round trip and under
 * the reader's own scope (the token check, row-level security), gives the
 * same stamp: never on the strength of the cache alone (web/h_requests.c).
 *
 * Keyed by the request and the reader (user, network, role): two readers
 * never share an answer, so nothing one may see reaches another. A fixed
 * number of slots (direct-mapped), each with its own lock, shared by
 * serve's threads; answers larger than WEB_READ_CACHE_MAX_BODY are not
 * kept. Bodies are copied in and out: the cache owns its copies. */
#ifndef PEERFLOW_WEB_READ_CACHE_H
#define PEERFLOW_WEB_READ_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_READ_CACHE_MAX_BODY (16 * 1024)

typedef struct web_read_cache web_read_cache;

typedef struct {
    long long request_id;
    long long user_id;
    long long network_id;
    int role;
} web_read_key;

/* A cache of slots slots (at least 1); NULL when out of memory. */
web_read_cache *web_read_cache_new(size_t slots);
void web_read_cache_free(web_read_cache *c);

/* The stamp kept for key, if its slot holds an answer for it. */
bool web_read_cache_stamp(web_read_cache *c, const web_read_key *key, long long *stamp);

/* A malloc'd copy (*body, *len; the caller frees it) of the answer kept
 * for key with exactly this stamp; false when the slot holds anything else
 * now (another thread replaced it) or memory ran out. */
bool web_read_cache_copy(web_read_cache *c, const web_read_key *key, long long stamp, char **body,
                         size_t *len);

/* Keeps body (copied) as key's answer at stamp, replacing what the slot
 * held; a body over WEB_READ_CACHE_MAX_BODY only empties the slot. */
void web_read_cache_put(web_read_cache *c, const web_read_key *key, long long stamp,
                        const char *body, size_t len);

/* Empties key's slot if it holds key's answer (the request changed, or is
 * no longer visible to the reader). */
void web_read_cache_forget(web_read_cache *c, const web_read_key *key);

#endif
