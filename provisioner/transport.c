/* prov_tx: see transport.h. */
#include "provisioner/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

static void msgf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void msgf(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

struct prov_tx_tls {
    SSL_CTX *client; /* we connect to ssl: endpoints */
    SSL_CTX *server; /* switches connect to our ssl: listener */
};

enum tx_state { TX_CONNECTING, TX_HANDSHAKE, TX_READY };

struct prov_tx {
    int fd;
    enum tx_state st;
    SSL *ssl;          /* NULL: plain */
    bool want_write;   /* the handshake waits for POLLOUT */
    char endpoint[256];
};

/* The OpenSSL error queue as one line (and emptied). */
static void ssl_why(char *why, size_t cap, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    msgf(why, cap, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

static SSL_CTX *make_ctx(const char *dir, bool server, pf_err *err)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL) {
        pf_fail(err, PF_EINTERNAL, "tls_init_failed", NULL, "OpenSSL cannot create a context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    char key[4096], cert[4096], ca[4096];
    msgf(key, sizeof key, "%s/key.pem", dir);
    msgf(cert, sizeof cert, "%s/cert.pem", dir);
    msgf(ca, sizeof ca, "%s/cacert.pem", dir);
    const char *bad = NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
        bad = cert;
    else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
             SSL_CTX_check_private_key(ctx) != 1)
        bad = key;
    else if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        bad = ca;
    if (bad) {
        char why[400];
        ssl_why(why, sizeof why, bad);
        pf_fail(err, PF_EINVALID, "bad_openflow_tls_dir", "openflow_tls_dir",
                "PEERFLOW_OPENFLOW_TLS_DIR: cannot use %s: put peerflow's key.pem, cert.pem and "
                "the switch CA's cacert.pem there (docs/fabric.md)",
                why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* a peer without a certificate signed by the CA is refused */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    /* the output buffer moves (realloc) between a write and its retry */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

prov_tx_tls *prov_tx_tls_open(const char *dir, pf_err *err)
{
    prov_tx_tls *t = calloc(1, sizeof *t);
    if (t == NULL) {
        pf_fail(err, PF_EINTERNAL, "out_of_memory", NULL, "out of memory");
        return NULL;
    }
    t->client = make_ctx(dir, false, err);
    t->server = t->client ? make_ctx(dir, true, err) : NULL;
    if (t->server == NULL) {
        prov_tx_tls_free(t);
        return NULL;
    }
    return t;
}

void prov_tx_tls_free(prov_tx_tls *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->client);
    SSL_CTX_free(t->server);
    free(t);
}

static prov_tx *tx_new(int fd, const char *endpoint)
{
    prov_tx *t = calloc(1, sizeof *t);
    if (t == NULL) {
        close(fd);
        return NULL;
    }
    t->fd = fd;
    msgf(t->endpoint, sizeof t->endpoint, "%s", endpoint);
    return t;
}

/* HOST:PORT into its parts (the last colon splits, [v6] brackets go). */
static bool split_host_port(const char *s, char *host, size_t hcap, const char **port)
{
    msgf(host, hcap, "%s", s);
    char *colon = strrchr(host, ':');
    if (colon == NULL)
        return false;
    *colon = '\0';
    *port = s + (colon - host) + 1;
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        memmove(host, host + 1, n - 2);
        host[n - 2] = '\0';
    }
    return true;
}

prov_tx *prov_tx_connect(const char *ep, prov_tx_tls *tls, char *why, size_t cap)
{
    int fd = -1;
    bool in_progress = false;
    bool ssl = strncmp(ep, "ssl:", 4) == 0;
    if (strncmp(ep, "unix:", 5) == 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(ep + 5) >= sizeof sa.sun_path) {
            msgf(why, cap, "endpoint path too long: %s", ep);
            return NULL;
        }
        strcpy(sa.sun_path, ep + 5);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            msgf(why, cap, "socket: %s", strerror(errno));
            return NULL;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            if (errno != EINPROGRESS && errno != EAGAIN) {
                msgf(why, cap, "cannot connect to %s: %s", ep, strerror(errno));
                close(fd);
                return NULL;
            }
            in_progress = true;
        }
    } else if (strncmp(ep, "tcp:", 4) == 0 || ssl) {
        if (ssl && tls == NULL) {
            msgf(why, cap, "endpoint %s needs TLS: set PEERFLOW_OPENFLOW_TLS_DIR", ep);
            return NULL;
        }
        char host[256];
        const char *port;
        if (!split_host_port(ep + 4, host, sizeof host, &port)) {
            msgf(why, cap, "endpoint %s has no port", ep);
            return NULL;
        }
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
        struct addrinfo *ai = NULL;
        int rc = getaddrinfo(host, port, &hints, &ai);
        if (rc != 0) {
            msgf(why, cap, "cannot resolve %s: %s", host, gai_strerror(rc));
            return NULL;
        }
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            msgf(why, cap, "socket: %s", strerror(errno));
            freeaddrinfo(ai);
            return NULL;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                msgf(why, cap, "cannot connect to %s: %s", ep, strerror(errno));
                close(fd);
                freeaddrinfo(ai);
                return NULL;
            }
            in_progress = true;
        }
        freeaddrinfo(ai);
    } else {
        msgf(why, cap, "unsupported endpoint %s", ep);
        return NULL;
    }
    prov_tx *t = tx_new(fd, ep);
    if (t == NULL) {
        msgf(why, cap, "out of memory");
        return NULL;
    }
    if (ssl) {
        t->ssl = SSL_new(tls->client);
        if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1) {
            ssl_why(why, cap, "cannot start TLS");
            prov_tx_close(t);
            return NULL;
        }
        SSL_set_connect_state(t->ssl);
    }
    t->st = in_progress ? TX_CONNECTING : (t->ssl ? TX_HANDSHAKE : TX_READY);
    return t;
}

int prov_tx_listen(const char *spec, prov_tx_tls *tls, bool *is_tls, pf_err *err)
{
    *is_tls = false;
    int fd = -1;
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(spec + 5) >= sizeof sa.sun_path) {
            pf_fail(err, PF_EINVALID, "bad_openflow_listen", "openflow_listen",
                    "PEERFLOW_OPENFLOW_LISTEN path is too long");
            return -1;
        }
        strcpy(sa.sun_path, spec + 5);
        unlink(sa.sun_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
            pf_fail(err, PF_EUNAVAIL, "openflow_listen_failed", "openflow_listen",
                    "cannot listen on %s: %s", spec, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        return fd;
    }
    if (strncmp(spec, "ssl:", 4) == 0) {
        if (tls == NULL) {
            pf_fail(err, PF_EINVALID, "openflow_tls_dir_missing", "openflow_tls_dir",
                    "PEERFLOW_OPENFLOW_LISTEN=%s needs PEERFLOW_OPENFLOW_TLS_DIR (key.pem, "
                    "cert.pem, cacert.pem)",
                    spec);
            return -1;
        }
        *is_tls = true;
        spec += 4;
    }
    char host[256];
    const char *port;
    if (!split_host_port(spec, host, sizeof host, &port)) {
        pf_fail(err, PF_EINVALID, "bad_openflow_listen", "openflow_listen",
                "PEERFLOW_OPENFLOW_LISTEN must be ADDR:PORT, ssl:ADDR:PORT or unix:PATH, not "
                "'%s'",
                spec);
        return -1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &ai) != 0) {
        pf_fail(err, PF_EINVALID, "bad_openflow_listen", "openflow_listen",
                "cannot resolve the OpenFlow listen address '%s'", spec);
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        pf_fail(err, PF_EUNAVAIL, "openflow_listen_failed", "openflow_listen",
                "cannot listen on %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

prov_tx *prov_tx_accept(int listen_fd, prov_tx_tls *tls)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return NULL;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails on unix: harmless */
    prov_tx *t = tx_new(fd, "accepted");
    if (t == NULL)
        return NULL;
    t->st = TX_READY;
    if (tls) {
        t->ssl = SSL_new(tls->server);
        if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1) {
            ERR_clear_error();
            prov_tx_close(t);
            return NULL;
        }
        SSL_set_accept_state(t->ssl);
        t->st = TX_HANDSHAKE;
    }
    return t;
}

int prov_tx_fd(const prov_tx *t)
{
    return t->fd;
}

bool prov_tx_is_tls(const prov_tx *t)
{
    return t->ssl != NULL;
}

short prov_tx_events(const prov_tx *t, bool want_write)
{
    switch (t->st) {
    case TX_CONNECTING:
        return POLLOUT;
    case TX_HANDSHAKE:
        return t->want_write ? POLLOUT : POLLIN;
    default:
        return (short)(POLLIN | (want_write ? POLLOUT : 0));
    }
}

int prov_tx_progress(prov_tx *t, char *why, size_t cap)
{
    if (t->st == TX_CONNECTING) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr == EINPROGRESS || soerr == EALREADY)
            return 0;
        if (soerr != 0) {
            msgf(why, cap, "cannot connect to %s: %s", t->endpoint, strerror(soerr));
            return -1;
        }
        struct pollfd p = {.fd = t->fd, .events = POLLOUT};
        if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT))
            return 0;
        t->st = t->ssl ? TX_HANDSHAKE : TX_READY;
    }
    if (t->st == TX_HANDSHAKE) {
        ERR_clear_error();
        int rc = SSL_do_handshake(t->ssl);
        if (rc == 1) {
            t->st = TX_READY;
            t->want_write = false;
            return 1;
        }
        int e = SSL_get_error(t->ssl, rc);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            t->want_write = e == SSL_ERROR_WANT_WRITE;
            return 0;
        }
        long v = SSL_get_verify_result(t->ssl);
        if (v != X509_V_OK)
            msgf(why, cap, "TLS handshake failed: the peer's certificate is not accepted (%s)",
                 X509_verify_cert_error_string(v));
        else
            ssl_why(why, cap, "TLS handshake failed (a plain TCP peer, or no certificate "
                              "signed by the CA?)");
        return -1;
    }
    return 1;
}

ssize_t prov_tx_read(prov_tx *t, void *buf, size_t len)
{
    if (t->ssl == NULL)
        return read(t->fd, buf, len);
    ERR_clear_error();
    int n = SSL_read(t->ssl, buf, len > (size_t)INT_MAX ? INT_MAX : (int)len);
    if (n > 0)
        return n;
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    ERR_clear_error();
    if (e == SSL_ERROR_SYSCALL)
        return errno == 0 ? 0 : -1; /* 0: the peer went away without close_notify */
    errno = EPROTO;
    return -1;
}

ssize_t prov_tx_write(prov_tx *t, const void *buf, size_t len)
{
    if (t->ssl == NULL)
        return send(t->fd, buf, len, MSG_NOSIGNAL);
    ERR_clear_error();
    int n = SSL_write(t->ssl, buf, len > (size_t)INT_MAX ? INT_MAX : (int)len);
    if (n > 0)
        return n;
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    ERR_clear_error();
    if (!(e == SSL_ERROR_SYSCALL && errno))
        errno = EPIPE;
    return -1;
}

bool prov_tx_pending(const prov_tx *t)
{
    return t->ssl != NULL && SSL_pending(t->ssl) > 0;
}

static void hex_of(const unsigned char *md, unsigned n, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n && i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

bool prov_tx_peer_sha256(const prov_tx *t, char hex[65])
{
    hex[0] = '\0';
    if (t->ssl == NULL)
        return false;
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    if (peer == NULL)
        return false;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    bool ok = X509_digest(peer, EVP_sha256(), md, &n) == 1 && n == 32;
    X509_free(peer);
    if (ok)
        hex_of(md, n, hex);
    return ok;
}

void prov_tx_close(prov_tx *t)
{
    if (t == NULL)
        return;
    if (t->ssl) {
        if (t->st == TX_READY)
            SSL_shutdown(t->ssl); /* one close_notify, not waited for */
        SSL_free(t->ssl);
        ERR_clear_error();
    }
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

bool prov_tx_cert_file_sha256(const char *path, char hex[65], char *why, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        msgf(why, cap, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (x == NULL) {
        ssl_why(why, cap, "no PEM certificate in the file");
        return false;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    bool ok = X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32;
    X509_free(x);
    if (!ok) {
        msgf(why, cap, "cannot digest the certificate");
        return false;
    }
    hex_of(md, n, hex);
    return true;
}
