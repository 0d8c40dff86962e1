/* wf_validate: pure checks and parsers of user input. Each fills err with
 * the field and a message that says what is expected. No I/O. */
#ifndef WF_VALIDATE_H
#define WF_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/pf_err.h"

#define WF_MESSAGE_MAX 2000

/* ASN 1..4294967294, not 23456 (AS_TRANS) or 65535 (reserved). Accepts
 * "64500" and "AS64500". */
pf_kind wf_parse_asn(const char *s, const char *field, long long *out, pf_err *err);
pf_kind wf_check_asn(long long asn, const char *field, pf_err *err);

/* VLAN 1..4094. */
pf_kind wf_parse_vlan(const char *s, const char *field, int *out, pf_err *err);
pf_kind wf_check_vlan(long long vlan, const char *field, pf_err *err);

/* A decimal integer in [min, max]. */
pf_kind wf_parse_int(const char *s, const char *field, long long min, long long max,
                     long long *out, pf_err *err);

/* THE address check of peerflow: input (network contacts, user emails)
 * and the mailer (recipients and sender, before anything goes into a
 * header or an SMTP command) use this one function, so an address that
 * was accepted can always be sent to, and nothing the mailer refuses can
 * be stored. Accepted: LOCAL@DOMAIN in ASCII, 3..254 characters;
 * LOCAL is 1..64 of letters, digits and !#$%&'*+-/=?^_`{|}~ and dots
 * (not first, last or doubled: RFC 5321 dot-string, no quoting); DOMAIN
 * is two or more labels of 1..63 letters, digits and '-' (not first or
 * last). So no space, control character (CR/LF), '<>",;:()[]\' or
 * non-ASCII byte ever reaches a header or an SMTP command. */
#define WF_EMAIL_MAX 254
bool wf_email_valid(const char *s);
/* wf_email_valid with an error: "bad_email" on field. */
pf_kind wf_check_email(const char *s, const char *field, pf_err *err);

/* Datapath id: 1..16 hex digits, optional 0x and ':' separators
 * ("00:00:00:00:00:00:00:01"). out gets 16 lowercase hex digits. */
pf_kind wf_parse_dpid(const char *s, char out[17], pf_err *err);

/* tcp:HOST:PORT (port 1..65535) or unix:/ABSOLUTE/PATH. */
pf_kind wf_check_endpoint(const char *s, pf_err *err);

/* SWITCH:PORT as in `link add --a s1:3`. name gets the switch name. */
pf_kind wf_parse_switch_port(const char *s, const char *field, char name[64],
                             long long *port, pf_err *err);

/* Names of switches and ports: 1..63 of [A-Za-z0-9._-] (ports also ':'
 * and '/'), starting with a letter or digit. */
pf_kind wf_check_name(const char *s, const char *field, bool port_chars, pf_err *err);

/* A name people read (a network's name): 1..max bytes of UTF-8 text
 * without control characters or leading/trailing spaces. */
pf_kind wf_check_display_name(const char *s, const char *field, size_t max, pf_err *err);

/* One of a NULL-terminated list. */
pf_kind wf_check_choice(const char *s, const char *field, const char *const *choices,
                        pf_err *err);

#endif
