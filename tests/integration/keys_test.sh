#!/usr/bin/env bash
# peerflow keys rotate | list: the key directory is created private on first
# use, rotation adds a current key and keeps the old ones, bad input is one
# clear line and exit 2. Needs no database.
source "$(dirname "$0")/lib.sh"
P=$PEERFLOW_BIN
tmp=$(mktemp -d /tmp/pf-keys-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export PEERFLOW_KEY_DIR=$tmp/a/keys
unset PEERFLOW_DATABASE_URL

expect_ok "keys list creates the directory and a first key" "$P" keys list
expect_eq "directory is 0700" 700 "$(stat -c %a "$PEERFLOW_KEY_DIR")"
expect_eq "one key" 1 "$(ls "$PEERFLOW_KEY_DIR"/*.pub | wc -l)"
expect_eq "secret is 0600" 600 "$(stat -c %a "$PEERFLOW_KEY_DIR"/*.key)"
first=$(cat "$PEERFLOW_KEY_DIR/current")

out=$("$P" keys rotate)
expect_eq "rotate says so" yes "$(printf '%s' "$out" | grep -q 'is current; 2 keys' && echo yes)"
second=$(cat "$PEERFLOW_KEY_DIR/current")
expect_eq "rotate makes a new key current" yes "$([ "$first" != "$second" ] && echo yes)"
expect_eq "the old key stays" 2 "$(ls "$PEERFLOW_KEY_DIR"/*.pub | wc -l)"
expect_eq "list shows both, one current" 1 "$("$P" keys list | grep -c ' yes  *yes ')"
expect_eq "list shows the old key" 1 "$("$P" keys list | grep -c "^$first ")"

expect_error "unknown subcommand" "usage: peerflow keys rotate" "$P" keys destroy
expect_error "no subcommand" "usage: peerflow keys rotate" "$P" keys
expect_error "stray argument" "unexpected argument" "$P" keys rotate now
expect_error "unknown option" "unknown option --force" "$P" keys rotate --force
PEERFLOW_KEY_DIR= expect_error "no key directory" "set PEERFLOW_KEY_DIR" "$P" keys list
chmod 644 "$PEERFLOW_KEY_DIR/$first.key"
expect_error "secret readable by others" "chmod 600" "$P" keys list
chmod 600 "$PEERFLOW_KEY_DIR/$first.key"
chmod 777 "$PEERFLOW_KEY_DIR"
expect_error "directory writable by others" "chmod 700" "$P" keys list
finish
