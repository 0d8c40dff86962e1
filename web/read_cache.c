/* web_read_cache: see read_cache.h. */
#include "web/read_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    pthread_mutex_t lock;
    bool used;
    web_read_key key;
    long long stamp;
    char *body; /* owned */
    size_t len;
};

struct web_read_cache {
    size_t n;
    struct slot *slots;
};

web_read_cache *web_read_cache_new(size_t slots)
{
    web_read_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->n = slots > 0 ? slots : 1;
    c->slots = calloc(c->n, sizeof *c->slots);
    if (c->slots == NULL) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->n; i++)
        pthread_mutex_init(&c->slots[i].lock, NULL);
    return c;
}

void web_read_cache_free(web_read_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->slots[i].body);
        pthread_mutex_destroy(&c->slots[i].lock);
    }
    free(c->slots);
    free(c);
}

static bool same_key(const web_read_key *a, const web_read_key *b)
{
    return a->request_id == b->request_id && a->user_id == b->user_id &&
           a->network_id == b->network_id && a->role == b->role;
}

/* splitmix64's finaliser over the key: neighbouring ids and users spread */
static struct slot *slot_of(web_read_cache *c, const web_read_key *k)
{
    uint64_t h = (uint64_t)k->request_id * 0x9e3779b97f4a7c15u ^ (uint64_t)k->user_id;
    h ^= (uint64_t)k->network_id << 32 ^ (uint64_t)(unsigned)k->role;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
    h ^= h >> 31;
    return &c->slots[h % c->n];
}

bool web_read_cache_stamp(web_read_cache *c, const web_read_key *key, long long *stamp)
{
    struct slot *s = slot_of(c, key);
    pthread_mutex_lock(&s->lock);
    bool hit = s->used && same_key(&s->key, key);
    if (hit)
        *stamp = s->stamp;
    pthread_mutex_unlock(&s->lock);
    return hit;
}

bool web_read_cache_copy(web_read_cache *c, const web_read_key *key, long long stamp, char **body,
                         size_t *len)
{
    struct slot *s = slot_of(c, key);
    bool ok = false;
    pthread_mutex_lock(&s->lock);
    if (s->used && same_key(&s->key, key) && s->stamp == stamp) {
        char *copy = malloc(s->len + 1);
        if (copy != NULL) {
            memcpy(copy, s->body, s->len + 1);
            *body = copy;
            *len = s->len;
            ok = true;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

static void empty(struct slot *s)
{
    free(s->body);
    s->body = NULL;
    s->len = 0;
    s->used = false;
}

void web_read_cache_put(web_read_cache *c, const web_read_key *key, long long stamp,
                        const char *body, size_t len)
{
    struct slot *s = slot_of(c, key);
    char *copy = NULL;
    if (len <= WEB_READ_CACHE_MAX_BODY && (copy = malloc(len + 1)) != NULL) {
        memcpy(copy, body, len);
        copy[len] = '\0';
    }
    pthread_mutex_lock(&s->lock);
    empty(s);
    if (copy != NULL) {
        s->used = true;
        s->key = *key;
        s->stamp = stamp;
        s->body = copy;
        s->len = len;
    }
    pthread_mutex_unlock(&s->lock);
}

void web_read_cache_forget(web_read_cache *c, const web_read_key *key)
{
    struct slot *s = slot_of(c, key);
    pthread_mutex_lock(&s->lock);
    if (s->used && same_key(&s->key, key))
        empty(s);
    pthread_mutex_unlock(&s->lock);
}
