/* libFuzzer target: the approval-link token parser (workflow/tokens.c).
 * Any input must be refused or accepted without a crash, and an accepted
 * one must be exactly the canonical text of what it decodes to (so no two
 * texts are the same token). Keys live in a temporary directory made at
 * start-up. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "workflow/tokens.h"

static wf_keyring *keys;
static char dir[] = "/tmp/pf-fuzz-keys-XXXXXX";

static void cleanup(void)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        abort();
    if (mkdtemp(dir) == NULL)
        abort();
    atexit(cleanup);
    /* a fixed key (id 00000001, seed 01 02 ... 20), so the seed corpus
     * (tests/unit/tokens_golden) holds tokens that verify */
    unsigned char seed[32], pk[32], sk[64];
    for (int i = 0; i < 32; i++)
        seed[i] = (unsigned char)(i + 1);
    crypto_sign_seed_keypair(pk, sk, seed);
    char hex[65], path[128];
    const struct { const char *name; const unsigned char *bytes; } files[] = {
        {"00000001.key", seed}, {"00000001.pub", pk}};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        FILE *f = fopen(path, "w");
        if (f == NULL)
            abort();
        sodium_bin2hex(hex, sizeof hex, files[i].bytes, 32);
        fprintf(f, "%s\n", hex);
        fclose(f);
    }
    chmod(path, 0644);
    snprintf(path, sizeof path, "%s/00000001.key", dir);
    chmod(path, 0600);
    snprintf(path, sizeof path, "%s/current", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        abort();
    fputs("00000001\n", f);
    fclose(f);
    pf_err err;
    if (wf_keyring_open(dir, &keys, &err) != PF_OK) {
        fprintf(stderr, "%s\n", err.message);
        abort();
    }
    if (getenv("PF_FUZZ_PRINT_SEED")) { /* regenerates the seed corpus */
        wf_token t = {.request_id = 1, .network_id = 2, .actions = 3, .expires = 4102444800};
        char text[WF_TOKEN_TEXT_MAX];
        wf_token_encode(keys, &t, true, text, &err);
        printf("%s", text);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[512];
    if (size >= sizeof text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    wf_token t;
    pf_err err;
    if (wf_token_decode(keys, text, 0, &t, &err) == PF_OK) {
        char again[WF_TOKEN_TEXT_MAX];
        if (wf_token_encode(keys, &t, false, again, &err) != PF_OK || strcmp(again, text) != 0)
            abort();
    }
    /* and a token of fuzzed fields round-trips */
    if (size >= 38) {
        wf_token f = {0};
        memcpy(f.id, data, 16);
        memcpy(&f.request_id, data + 16, 8);
        memcpy(&f.network_id, data + 24, 8);
        f.actions = 1u + (data[32] % 3u);
        memcpy(&f.expires, data + 33, 4);
        f.expires = (f.expires & 0x7fffffff) + 1;
        char enc[WF_TOKEN_TEXT_MAX];
        wf_token back;
        if (wf_token_encode(keys, &f, true, enc, &err) != PF_OK ||
            wf_token_decode(keys, enc, 0, &back, &err) != PF_OK ||
            back.request_id != f.request_id || back.network_id != f.network_id ||
            back.actions != f.actions || back.expires != f.expires ||
            memcmp(back.id, f.id, 16) != 0)
            abort();
    }
    return 0;
}
