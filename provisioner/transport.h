/* prov_tx: the byte transport under the OpenFlow connections - plain TCP,
 * unix sockets and TLS (OpenSSL) - behind one small interface, so
 * provisioner/conn.c speaks OpenFlow and not sockets.
 *
 * Everything is non-blocking: connect, the TLS handshake, reads and
 * writes never wait; the caller polls prov_tx_fd() for the events
 * prov_tx_events() asks for and calls prov_tx_progress() until the stream
 * is ready, then prov_tx_read()/prov_tx_write().
 *
 * Endpoints: "tcp:HOST:PORT", "unix:PATH", "ssl:HOST:PORT" (TLS; needs a
 * prov_tx_tls). Listeners: "ADDR:PORT", "unix:PATH", "ssl:ADDR:PORT".
 *
 * TLS (docs/fabric.md, "OpenFlow over TLS"): peerflow's private key
 * DIR/key.pem, its certificate DIR/cert.pem, and DIR/cacert.pem, the CA
 * that signs switch certificates (Open vSwitch's ovs-pki switchca). Both
 * directions verify the peer's certificate against that CA and require
 * one; which switch a certificate belongs to is decided by the caller
 * from prov_tx_peer_sha256() (the pin in switches.cert_sha256). */
#ifndef PROV_TRANSPORT_H
#define PROV_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/pf_err.h"

typedef struct prov_tx prov_tx;
typedef struct prov_tx_tls prov_tx_tls;

/* Loads DIR/key.pem, DIR/cert.pem, DIR/cacert.pem. NULL with err filled
 * (PF_EINVALID "bad_openflow_tls_dir") when one is missing or invalid. */
prov_tx_tls *prov_tx_tls_open(const char *dir, pf_err *err);
void prov_tx_tls_free(prov_tx_tls *t);

/* Starts connecting to an endpoint. NULL with why[] filled when it cannot
 * even start (bad endpoint, ssl: without TLS configured, socket error). */
prov_tx *prov_tx_connect(const char *endpoint, prov_tx_tls *tls, char *why, size_t cap);

/* A listening socket (non-blocking). *is_tls says whether it is ssl:
 * (then accepted streams need tls). -1 with err filled. */
int prov_tx_listen(const char *spec, prov_tx_tls *tls, bool *is_tls, pf_err *err);
/* The next pending connection of a listener, or NULL (none, or an error). */
prov_tx *prov_tx_accept(int listen_fd, prov_tx_tls *tls);

int prov_tx_fd(const prov_tx *t);
bool prov_tx_is_tls(const prov_tx *t);
/* The poll events the stream waits for: POLLIN always once ready, plus
 * POLLOUT while connecting or when want_write. */
short prov_tx_events(const prov_tx *t, bool want_write);
/* Advances connect and handshake: 1 ready, 0 not yet (poll again), -1
 * failed with why[] filled (refused, bad certificate, not TLS, ...). */
int prov_tx_progress(prov_tx *t, char *why, size_t cap);
/* > 0 bytes, 0 the peer closed, -1 with errno (EAGAIN: nothing now). */
ssize_t prov_tx_read(prov_tx *t, void *buf, size_t len);
ssize_t prov_tx_write(prov_tx *t, const void *buf, size_t len);
/* Whether the transport holds read bytes the socket no longer shows
 * (TLS records already decrypted): read again without polling. */
bool prov_tx_pending(const prov_tx *t);
/* The SHA-256 fingerprint of the peer's certificate (DER), 64 lowercase
 * hex digits; false on a plain stream. */
bool prov_tx_peer_sha256(const prov_tx *t, char hex[65]);
void prov_tx_close(prov_tx *t);

/* The SHA-256 fingerprint of the first certificate in a PEM file, for
 * `peerflow switch add --cert FILE`. false with why[] filled. */
bool prov_tx_cert_file_sha256(const char *path, char hex[65], char *why, size_t cap);

#endif
