/* Unit tests of the approval-link token codec and its keys
 * (workflow/tokens.c, workflow/keys.c) and of the mail formatter
 * (wf_mail_format): no database, no network, a temporary key directory.
 *
 * Verification goes through wf_keyring_verify, which calls libsodium's
 * crypto_sign_verify_detached - constant time in the secret data - and
 * the token's hash is compared with sodium_memcmp; nothing here compares
 * secrets with memcmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "workflow/keys.h"
#include "workflow/mailer.h"
#include "workflow/tokens.h"

static const long long NOW = 1800000000; /* a fixed "now" for the tests */

static char *temp_dir(void)
{
    char *d = strdup("/tmp/pf-keys-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void remove_dir(const char *d)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
}

static wf_token sample(void)
{
    wf_token t = {.request_id = 4242, .network_id = 7,
                  .actions = WF_TOKEN_APPROVE | WF_TOKEN_REJECT, .expires = NOW + 3600};
    for (int i = 0; i < WF_TOKEN_ID_BYTES; i++)
        t.id[i] = (unsigned char)(0xa0 + i);
    return t;
}

struct fixture {
    char *dir;
    wf_keyring *keys;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->dir = temp_dir();
    char sub[300];
    snprintf(sub, sizeof sub, "%s/keys", f->dir);
    pf_err err = {0};
    if (wf_keyring_open(sub, &f->keys, &err) != PF_OK) {
        fprintf(stderr, "keyring: %s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    wf_keyring_free(f->keys);
    remove_dir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void encode(wf_keyring *k, wf_token *t, char out[WF_TOKEN_TEXT_MAX])
{
    pf_err err = {0};
    if (wf_token_encode(k, t, true, out, &err) != PF_OK)
        fail_msg("encode: %s", err.message);
}

/* ------------------------------------------------------------------ */

static void key_dir_is_created_private(void **state)
{
    struct fixture *f = *state;
    char path[400];
    struct stat st;
    snprintf(path, sizeof path, "%s/keys", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    wf_key_info info;
    assert_true(wf_keyring_info(f->keys, 0, &info));
    assert_true(info.current && info.can_sign);
    assert_false(wf_keyring_info(f->keys, 1, &info));
    snprintf(path, sizeof path, "%s/keys/%s.key", f->dir, info.id);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void round_trip(void **state)
{
    struct fixture *f = *state;
    wf_token t = sample(), back;
    char text[WF_TOKEN_TEXT_MAX], again[WF_TOKEN_TEXT_MAX];
    encode(f->keys, &t, text);
    assert_int_equal(strlen(text), WF_TOKEN_TEXT_LEN);
    /* base64url alphabet only, no padding */
    assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789-_"),
                     WF_TOKEN_TEXT_LEN);
    pf_err err = {0};
    assert_int_equal(wf_token_decode(f->keys, text, NOW, &back, &err), PF_OK);
    assert_memory_equal(back.id, t.id, WF_TOKEN_ID_BYTES);
    assert_memory_equal(back.key_id, t.key_id, WF_KEY_ID_BYTES);
    assert_int_equal(back.request_id, 4242);
    assert_int_equal(back.network_id, 7);
    assert_int_equal(back.actions, 3);
    assert_int_equal(back.expires, NOW + 3600);
    /* deterministic: the mailer re-derives exactly the same text */
    wf_token t2 = t;
    assert_int_equal(wf_token_encode(f->keys, &t2, false, again, &err), PF_OK);
    assert_string_equal(text, again);
    /* the hash the database keeps is of the text */
    unsigned char h1[32], h2[32];
    wf_token_hash(text, h1);
    wf_token_hash(again, h2);
    assert_int_equal(sodium_memcmp(h1, h2, 32), 0);
}

/* Every single-character change of an encoded token is refused: each
 * position, several replacement characters (all of the base64url
 * alphabet, and bytes outside it). */
static void every_single_byte_change_is_refused(void **state)
{
    struct fixture *f = *state;
    wf_token t = sample(), out;
    char text[WF_TOKEN_TEXT_MAX];
    encode(f->keys, &t, text);
    static const char repl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                               "+/=. %\x01\x7f\xc3\xff";
    int tried = 0;
    for (size_t pos = 0; pos < WF_TOKEN_TEXT_LEN; pos++) {
        for (size_t r = 0; r < sizeof repl - 1; r++) {
            if (repl[r] == text[pos])
                continue;
            char bad[WF_TOKEN_TEXT_MAX];
            memcpy(bad, text, sizeof bad);
            bad[pos] = repl[r];
            pf_err err = {0};
            pf_kind k = wf_token_decode(f->keys, bad, NOW, &out, &err);
            if (k == PF_OK)
                fail_msg("a change at %zu to 0x%02x was accepted", pos, (unsigned char)repl[r]);
            /* it is refused as malformed, unknown key or bad signature -
             * never for a reason that would look like a valid token */
            if (strcmp(err.code, "token_malformed") != 0 &&
                strcmp(err.code, "token_bad_signature") != 0 &&
                strcmp(err.code, "token_unknown_key") != 0)
                fail_msg("change at %zu refused with %s", pos, err.code);
            tried++;
        }
    }
    assert_true(tried > 147 * 60);
    /* and the flip of each bit of the decoded bytes, re-encoded
     * canonically, is refused too (the signature covers every byte) */
    unsigned char bin[WF_TOKEN_BYTES];
    size_t bl = 0;
    assert_int_equal(sodium_base642bin(bin, sizeof bin, text, strlen(text), NULL, &bl, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    for (size_t i = 0; i < WF_TOKEN_BYTES; i++)
        for (int b = 0; b < 8; b++) {
            unsigned char copy[WF_TOKEN_BYTES];
            memcpy(copy, bin, sizeof copy);
            copy[i] ^= (unsigned char)(1u << b);
            char bad[WF_TOKEN_TEXT_MAX];
            sodium_bin2base64(bad, sizeof bad, copy, sizeof copy,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING);
            pf_err err = {0};
            if (wf_token_decode(f->keys, bad, NOW, &out, &err) == PF_OK)
                fail_msg("bit %d of byte %zu flipped was accepted", b, i);
        }
}

static void expired_is_refused(void **state)
{
    struct fixture *f = *state;
    wf_token t = sample(), out;
    char text[WF_TOKEN_TEXT_MAX];
    encode(f->keys, &t, text);
    pf_err err = {0};
    assert_int_equal(wf_token_decode(f->keys, text, NOW + 3599, &out, &err), PF_OK);
    assert_int_equal(wf_token_decode(f->keys, text, NOW + 3600, &out, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "token_expired");
    assert_int_equal(wf_token_decode(f->keys, text, NOW + 999999, &out, &err), PF_ECONFLICT);
    assert_string_equal(err.code, "token_expired");
}

static void malformed_input_is_refused(void **state)
{
    struct fixture *f = *state;
    wf_token t = sample(), out;
    char text[WF_TOKEN_TEXT_MAX];
    encode(f->keys, &t, text);
    pf_err err = {0};
    /* truncated at every length */
    for (size_t n = 0; n < WF_TOKEN_TEXT_LEN; n++) {
        char cut[WF_TOKEN_TEXT_MAX];
        memcpy(cut, text, n);
        cut[n] = '\0';
        assert_int_equal(wf_token_decode(f->keys, cut, NOW, &out, &err), PF_EINVALID);
        assert_string_equal(err.code, "token_malformed");
    }
    /* longer: an extra character, padding, whitespace */
    const char *tails[] = {"A", "=", " ", "\n", "%20"};
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        char longer[WF_TOKEN_TEXT_MAX + 8];
        snprintf(longer, sizeof longer, "%s%s", text, tails[i]);
        assert_int_equal(wf_token_decode(f->keys, longer, NOW, &out, &err), PF_EINVALID);
        assert_string_equal(err.code, "token_malformed");
    }
    /* not base64url at all, standard base64 alphabet, NULL, empty */
    char std[WF_TOKEN_TEXT_MAX];
    memcpy(std, text, sizeof std);
    for (char *p = std; *p; p++)
        *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
    if (strcmp(std, text) != 0) {
        assert_int_equal(wf_token_decode(f->keys, std, NOW, &out, &err), PF_EINVALID);
        assert_string_equal(err.code, "token_malformed");
    }
    char junk[WF_TOKEN_TEXT_MAX];
    memset(junk, '!', WF_TOKEN_TEXT_LEN);
    junk[WF_TOKEN_TEXT_LEN] = '\0';
    assert_int_equal(wf_token_decode(f->keys, junk, NOW, &out, &err), PF_EINVALID);
    assert_int_equal(wf_token_decode(f->keys, NULL, NOW, &out, &err), PF_EINVALID);
    assert_int_equal(wf_token_decode(f->keys, "", NOW, &out, &err), PF_EINVALID);
    assert_string_equal(err.code, "token_malformed");
    /* a well-formed token of another version */
    unsigned char bin[WF_TOKEN_BYTES];
    size_t bl = 0;
    sodium_base642bin(bin, sizeof bin, text, strlen(text), NULL, &bl, NULL,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    bin[0] = 2;
    char v2[WF_TOKEN_TEXT_MAX];
    sodium_bin2base64(v2, sizeof v2, bin, sizeof bin, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_int_equal(wf_token_decode(f->keys, v2, NOW, &out, &err), PF_EINVALID);
    assert_string_equal(err.code, "token_malformed");
}

/* A token of another key directory: its key id is unknown here. A key
 * with the same id but other key material: bad signature. */
static void wrong_and_unknown_keys_are_refused(void **state)
{
    struct fixture *f = *state;
    char *other_dir = temp_dir();
    char sub[300];
    snprintf(sub, sizeof sub, "%s/k", other_dir);
    wf_keyring *other = NULL;
    pf_err err = {0};
    assert_int_equal(wf_keyring_open(sub, &other, &err), PF_OK);
    wf_token t = sample(), out;
    char text[WF_TOKEN_TEXT_MAX];
    encode(other, &t, text);
    assert_int_equal(wf_token_decode(f->keys, text, NOW, &out, &err), PF_EFORBIDDEN);
    assert_string_equal(err.code, "token_unknown_key");
    assert_int_equal(wf_token_decode(other, text, NOW, &out, &err), PF_OK);

    /* the other directory's key id, but this directory's key material:
     * write an impostor .pub under the other key's id */
    wf_key_info mine, theirs;
    assert_true(wf_keyring_info(f->keys, 0, &mine));
    assert_true(wf_keyring_info(other, 0, &theirs));
    char from[400], to[400], cmd[900];
    snprintf(from, sizeof from, "%s/keys/%s.pub", f->dir, mine.id);
    snprintf(to, sizeof to, "%s/keys/%s.pub", f->dir, theirs.id);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
    /* the keyring notices the new file (directory mtime) on next use;
     * make sure the mtime moves even on a coarse clock */
    snprintf(cmd, sizeof cmd, "touch -d '+2 seconds' '%s/keys'", f->dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(wf_token_decode(f->keys, text, NOW, &out, &err), PF_EFORBIDDEN);
    assert_string_equal(err.code, "token_bad_signature");

    wf_keyring_free(other);
    remove_dir(other_dir);
    free(other_dir);
}

/* After a rotation new tokens use the new key, and tokens of the old key
 * still verify; a revoked (deleted) key's tokens do not. */
static void rotation_keeps_old_keys_verifying(void **state)
{
    struct fixture *f = *state;
    wf_token t1 = sample(), t2 = sample(), out;
    char old[WF_TOKEN_TEXT_MAX], cur[WF_TOKEN_TEXT_MAX];
    encode(f->keys, &t1, old);
    char id[WF_KEY_ID_HEX];
    pf_err err = {0};
    assert_int_equal(wf_keyring_rotate(f->keys, id, &err), PF_OK);
    encode(f->keys, &t2, cur);
    assert_memory_not_equal(t1.key_id, t2.key_id, WF_KEY_ID_BYTES);
    char hex[WF_KEY_ID_HEX];
    wf_key_id_hex(t2.key_id, hex);
    assert_string_equal(hex, id);
    assert_int_equal(wf_token_decode(f->keys, old, NOW, &out, &err), PF_OK);
    assert_int_equal(wf_token_decode(f->keys, cur, NOW, &out, &err), PF_OK);

    /* another process (a second keyring on the same directory) sees both */
    char sub[300];
    snprintf(sub, sizeof sub, "%s/keys", f->dir);
    wf_keyring *again = NULL;
    assert_int_equal(wf_keyring_open(sub, &again, &err), PF_OK);
    assert_int_equal(wf_token_decode(again, old, NOW, &out, &err), PF_OK);
    unsigned char cid[WF_KEY_ID_BYTES];
    assert_int_equal(wf_keyring_current(again, cid, &err), PF_OK);
    assert_memory_equal(cid, t2.key_id, WF_KEY_ID_BYTES);

    /* revoke the old key: delete its files */
    wf_key_id_hex(t1.key_id, hex);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm '%s/%s.pub' '%s/%s.key' && touch -d '+4 seconds' '%s'", sub,
             hex, sub, hex, sub);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(wf_token_decode(again, old, NOW, &out, &err), PF_EFORBIDDEN);
    assert_string_equal(err.code, "token_unknown_key");
    assert_int_equal(wf_token_decode(again, cur, NOW, &out, &err), PF_OK);
    wf_keyring_free(again);
}

static void key_dir_refusals(void **state)
{
    (void)state;
    wf_keyring *k = NULL;
    pf_err err = {0};
    assert_int_equal(wf_keyring_open(NULL, &k, &err), PF_EINVALID);
    assert_string_equal(err.code, "no_key_dir");
    assert_int_equal(wf_keyring_open("", &k, &err), PF_EINVALID);
    /* a secret key readable by others is refused */
    char *d = temp_dir();
    char sub[300], cmd[1000];
    snprintf(sub, sizeof sub, "%s/k", d);
    assert_int_equal(wf_keyring_open(sub, &k, &err), PF_OK);
    wf_keyring_free(k);
    snprintf(cmd, sizeof cmd, "chmod 644 '%s'/*.key", sub);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(wf_keyring_open(sub, &k, &err), PF_EINTERNAL);
    assert_string_equal(err.code, "key_dir_unusable");
    assert_non_null(strstr(err.message, "chmod 600"));
    remove_dir(d);
    free(d);
}

/* ------------------------------------------------------- mail format */

static void mail_format_headers_and_encodings(void **state)
{
    (void)state;
    wf_mail m = {.from = "peerflow@ix.example",
                 .recipients = "[\"noc@a.example\",\"peering@b.example\"]",
                 .subject = "Peering request #1 AS64500 Netz M\xc3\xbcller -> AS64501 "
                            "\xe6\x97\xa5\xe6\x9c\xac needs your decision",
                 .body = "Line one\n.starts with a dot\nGr\xc3\xbc\xc3\x9f" "e = 1\n",
                 .message_id = "<pf.1.x@ix.example>",
                 .date = 0};
    char *text = NULL;
    pf_err err = {0};
    assert_int_equal(wf_mail_format(&m, &text, &err), PF_OK);
    assert_non_null(strstr(text, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
    assert_non_null(strstr(text, "From: peerflow@ix.example\r\n"));
    assert_non_null(strstr(text, "To: noc@a.example, peering@b.example\r\n"));
    assert_non_null(strstr(text, "Subject: =?UTF-8?B?"));
    assert_non_null(strstr(text, "Message-ID: <pf.1.x@ix.example>\r\n"));
    assert_non_null(strstr(text, "MIME-Version: 1.0\r\n"));
    assert_non_null(strstr(text, "Content-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(text, "Content-Transfer-Encoding: quoted-printable\r\n"));
    assert_non_null(strstr(text, "Gr=C3=BC=C3=9Fe =3D 1\r\n"));
    /* every line ends in CRLF and is at most 78 characters */
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_true(nl > p ? nl[-1] == '\r' : false);
        assert_true(nl - p - 1 <= 78);
        p = nl + 1;
    }
    free(text);
    /* ASCII: 7bit, the subject as is */
    m.subject = "Peering request #2 is active";
    m.body = "all ascii\n";
    assert_int_equal(wf_mail_format(&m, &text, &err), PF_OK);
    assert_non_null(strstr(text, "Subject: Peering request #2 is active\r\n"));
    assert_non_null(strstr(text, "Content-Transfer-Encoding: 7bit\r\n"));
    free(text);
    /* header injection through an address is refused */
    m.recipients = "[\"a@b.example\\r\\nBcc: x@evil.example\"]";
    assert_int_equal(wf_mail_format(&m, &text, &err), PF_EINVALID);
    assert_string_equal(err.code, "bad_mail_header");
    /* a subject with CR LF cannot add a header */
    m.recipients = "[\"a@b.example\"]";
    m.subject = "x\r\nBcc: x@evil.example";
    assert_int_equal(wf_mail_format(&m, &text, &err), PF_OK);
    assert_null(strstr(text, "\r\nBcc:"));
    free(text);
}

/* A reload that fails (a secret key file chmod 644, or garbage) keeps
 * the keys already loaded and says why; a verify-only keyring never reads
 * .key files, so neither breaks it; it cannot sign. */
static void failed_reload_keeps_keys(void **state)
{
    struct fixture *f = *state;
    wf_token t = sample(), out;
    char text[WF_TOKEN_TEXT_MAX];
    encode(f->keys, &t, text);
    char sub[300], cmd[1200];
    snprintf(sub, sizeof sub, "%s/keys", f->dir);
    wf_keyring *v = NULL;
    pf_err err = {0};
    assert_int_equal(wf_keyring_open_verify(sub, &v, &err), PF_OK);
    assert_int_equal(wf_token_decode(v, text, NOW, &out, &err), PF_OK);
    assert_false(wf_keyring_reload_error(f->keys, NULL));

    /* a secret key becomes readable by others, and the directory changes */
    snprintf(cmd, sizeof cmd, "chmod 644 '%s'/*.key && touch -d '+2 seconds' '%s'", sub, sub);
    assert_int_equal(system(cmd), 0);
    /* the signer: still verifies with the keys it had, reports the error,
     * and signs nothing until the directory is right */
    assert_int_equal(wf_token_decode(f->keys, text, NOW, &out, &err), PF_OK);
    pf_err why = {0};
    assert_true(wf_keyring_reload_error(f->keys, &why));
    assert_string_equal(why.code, "key_dir_unusable");
    assert_non_null(strstr(why.message, "chmod 600"));
    wf_token t2 = sample();
    char text2[WF_TOKEN_TEXT_MAX];
    assert_int_equal(wf_token_encode(f->keys, &t2, true, text2, &err), PF_EINTERNAL);
    assert_non_null(strstr(err.message, "chmod 600"));
    /* the verifier does not even look at the .key file */
    assert_int_equal(wf_token_decode(v, text, NOW, &out, &err), PF_OK);
    assert_false(wf_keyring_reload_error(v, NULL));
    wf_keyring *v2 = NULL;
    assert_int_equal(wf_keyring_open_verify(sub, &v2, &err), PF_OK);
    assert_int_equal(wf_token_decode(v2, text, NOW, &out, &err), PF_OK);
    wf_keyring_free(v2);
    /* a signer started now refuses the directory, as before */
    assert_int_equal(wf_keyring_open(sub, &v2, &err), PF_EINTERNAL);

    /* garbage in a secret key: the same */
    snprintf(cmd, sizeof cmd,
             "for k in '%s'/*.key; do echo nonsense > \"$k\"; chmod 600 \"$k\"; done && "
             "touch -d '+4 seconds' '%s'",
             sub, sub);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(wf_token_decode(v, text, NOW, &out, &err), PF_OK);
    assert_int_equal(wf_keyring_open_verify(sub, &v2, &err), PF_OK);
    wf_keyring_free(v2);
    /* the signer: a .key that is not hex is "no secret", so it still
     * verifies (its .pub is fine) */
    assert_int_equal(wf_token_decode(f->keys, text, NOW, &out, &err), PF_OK);

    /* a broken .pub: both keep the keys they had and report it */
    wf_key_info info;
    assert_true(wf_keyring_info(v, 0, &info));
    snprintf(cmd, sizeof cmd, "echo broken > '%s/%s.pub' && touch -d '+6 seconds' '%s'", sub,
             info.id, sub);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(wf_token_decode(v, text, NOW, &out, &err), PF_OK);
    assert_true(wf_keyring_reload_error(v, &why));
    assert_non_null(strstr(why.message, ".pub"));
    assert_int_equal(wf_token_decode(f->keys, text, NOW, &out, &err), PF_OK);

    /* a verify-only keyring cannot sign or rotate */
    char id[WF_KEY_ID_HEX];
    assert_int_not_equal(wf_token_encode(v, &t2, true, text2, &err), PF_OK);
    assert_int_not_equal(wf_keyring_rotate(v, id, &err), PF_OK);
    wf_keyring_free(v);
}

/* A verifier on a fresh directory creates no key; it sees the key the
 * signer creates later. */
static void verifier_creates_no_key(void **state)
{
    (void)state;
    char *d = temp_dir();
    char sub[300];
    snprintf(sub, sizeof sub, "%s/k", d);
    wf_keyring *v = NULL, *s = NULL;
    pf_err err = {0};
    assert_int_equal(wf_keyring_open_verify(sub, &v, &err), PF_OK);
    wf_key_info info;
    assert_false(wf_keyring_info(v, 0, &info));
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q key", sub);
    assert_int_not_equal(system(cmd), 0); /* grep found nothing */
    assert_int_equal(wf_keyring_open(sub, &s, &err), PF_OK);
    wf_token t = sample(), out;
    char text[WF_TOKEN_TEXT_MAX];
    encode(s, &t, text);
    snprintf(cmd, sizeof cmd, "touch -d '+2 seconds' '%s'", sub);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(wf_token_decode(v, text, NOW, &out, &err), PF_OK);
    assert_true(wf_keyring_info(v, 0, &info));
    assert_false(info.can_sign);
    wf_keyring_free(v);
    wf_keyring_free(s);
    remove_dir(d);
    free(d);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(key_dir_is_created_private, setup, teardown),
        cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(every_single_byte_change_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(expired_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_input_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_and_unknown_keys_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(rotation_keeps_old_keys_verifying, setup, teardown),
        cmocka_unit_test(key_dir_refusals),
        cmocka_unit_test_setup_teardown(failed_reload_keeps_keys, setup, teardown),
        cmocka_unit_test(verifier_creates_no_key),
        cmocka_unit_test(mail_format_headers_and_encodings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
