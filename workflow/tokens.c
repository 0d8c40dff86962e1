/* wf_tokens: see tokens.h. */
#include "workflow/tokens.h"

#include <sodium.h>
#include <string.h>

#define PAYLOAD_BYTES 46

static const char context[] = "peerflow approval token v1";

static void put64(unsigned char *p, unsigned long long v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static unsigned long long get64(const unsigned char *p)
{
    unsigned long long v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void payload(const wf_token *t, unsigned char out[PAYLOAD_BYTES])
{
    out[0] = WF_TOKEN_VERSION;
    memcpy(out + 1, t->key_id, WF_KEY_ID_BYTES);
    memcpy(out + 5, t->id, WF_TOKEN_ID_BYTES);
    put64(out + 21, (unsigned long long)t->request_id);
    put64(out + 29, (unsigned long long)t->network_id);
    out[37] = (unsigned char)t->actions;
    put64(out + 38, (unsigned long long)t->expires);
}

/* What is signed: the context string, then the payload. */
static void signed_message(const unsigned char p[PAYLOAD_BYTES],
                           unsigned char out[sizeof context - 1 + PAYLOAD_BYTES])
{
    memcpy(out, context, sizeof context - 1);
    memcpy(out + sizeof context - 1, p, PAYLOAD_BYTES);
}

pf_kind wf_token_encode(wf_keyring *keys, wf_token *t, bool use_current,
                        char out[WF_TOKEN_TEXT_MAX], pf_err *err)
{
    if (t->actions == 0 || (t->actions & ~3u) != 0)
        return pf_fail(err, PF_EINTERNAL, "bad_token_actions", NULL,
                       "internal error: a token allows approve and/or reject");
    unsigned char bin[WF_TOKEN_BYTES], msg[sizeof context - 1 + PAYLOAD_BYTES];
    unsigned char used[WF_KEY_ID_BYTES];
    if (use_current && wf_keyring_current(keys, t->key_id, err))
        return err->kind;
    payload(t, bin);
    signed_message(bin, msg);
    if (wf_keyring_sign(keys, t->key_id, msg, sizeof msg, bin + PAYLOAD_BYTES, used, err))
        return err->kind;
    sodium_bin2base64(out, WF_TOKEN_TEXT_MAX, bin, sizeof bin,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return PF_OK;
}

static pf_kind malformed(pf_err *err, const char *why)
{
    return pf_fail(err, PF_EINVALID, "token_malformed", "token",
                   "this approval link is damaged (%s): open the link from the email exactly "
                   "as sent, or ask for a new one",
                   why);
}

pf_kind wf_token_decode(wf_keyring *keys, const char *text, long long now, wf_token *out,
                        pf_err *err)
{
    if (text == NULL)
        return malformed(err, "empty");
    size_t len = strnlen(text, WF_TOKEN_TEXT_LEN + 1);
    if (len != WF_TOKEN_TEXT_LEN)
        return malformed(err, len < WF_TOKEN_TEXT_LEN ? "too short, cut off?" : "too long");
    /* The alphabet is checked here first: libsodium 1.0.18's base64
     * decoder maps every byte >= 0x80 to 63 ('_'), so "_" and "\xc3"
     * would decode alike (found by tests/unit/test_tokens.c). */
    if (strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != len)
        return malformed(err, "not base64url");
    unsigned char bin[WF_TOKEN_BYTES];
    size_t bin_len = 0;
    const char *end = NULL;
    /* strict: no padding, no whitespace; libsodium also refuses non-zero
     * unused bits in the last character, so each token has exactly one
     * text */
    if (sodium_base642bin(bin, sizeof bin, text, len, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        bin_len != WF_TOKEN_BYTES || end != text + len)
        return malformed(err, "not base64url");
    if (bin[0] != WF_TOKEN_VERSION)
        return malformed(err, "unknown token version");

    unsigned char msg[sizeof context - 1 + PAYLOAD_BYTES];
    signed_message(bin, msg);
    wf_verify_result vr = wf_keyring_verify(keys, bin + 1, msg, sizeof msg, bin + PAYLOAD_BYTES);
    if (vr == WF_VERIFY_UNKNOWN_KEY) {
        char hex[WF_KEY_ID_HEX];
        wf_key_id_hex(bin + 1, hex);
        return pf_fail(err, PF_EFORBIDDEN, "token_unknown_key", "token",
                       "this approval link was signed by a key this server does not know "
                       "(%s; retired or revoked): ask for a new link",
                       hex);
    }
    if (vr != WF_VERIFY_OK)
        return pf_fail(err, PF_EFORBIDDEN, "token_bad_signature", "token",
                       "this approval link was altered (its signature does not match): use the "
                       "link exactly as it came in the email");
    wf_token t;
    memcpy(t.key_id, bin + 1, WF_KEY_ID_BYTES);
    memcpy(t.id, bin + 5, WF_TOKEN_ID_BYTES);
    t.request_id = (long long)get64(bin + 21);
    t.network_id = (long long)get64(bin + 29);
    t.actions = bin[37];
    t.expires = (long long)get64(bin + 38);
    if (now >= t.expires)
        return pf_fail(err, PF_ECONFLICT, "token_expired", "token",
                       "this approval link has expired: an admin of your network can still "
                       "decide in peerflow, or the request can be submitted again");
    *out = t;
    return PF_OK;
}

void wf_token_hash(const char *text, unsigned char out[WF_TOKEN_HASH_BYTES])
{
    crypto_generichash(out, WF_TOKEN_HASH_BYTES, (const unsigned char *)text, strlen(text),
                       NULL, 0);
}

unsigned wf_token_action(const char *name)
{
    if (name == NULL)
        return 0;
    if (strcmp(name, "approve") == 0)
        return WF_TOKEN_APPROVE;
    if (strcmp(name, "reject") == 0)
        return WF_TOKEN_REJECT;
    return 0;
}
