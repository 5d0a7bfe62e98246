#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes a throw-away signing PKI in DIR with the openssl command: ca.key/ca.pem (the keyring a
# device trusts), signer.key/signer.pem (code signing, issued by the CA) and tls.key/tls.pem
# (same CA, TLS server use only: must NOT be able to sign firmware). For demos and tests only.
set -eu
dir=${1:?usage: make-keys.sh DIR [NAME]}
name=${2:-upgrader demo}
mkdir -p "$dir"
cd "$dir"
q() { "$@" 2>/dev/null >/dev/null || { echo "make-keys: $* failed" >&2; exit 1; }; }
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 3650 -subj "/CN=$name CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
issue() { # BASENAME SUBJECT EXTENSIONS
    q openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
    printf '%s\n' "$3" > "$1.ext"
    q openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile "$1.ext" -out "$1.pem"
    rm -f "$1.csr" "$1.ext"
}
issue signer "/CN=$name firmware signer" \
    "$(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning')"
issue tls "/CN=$name TLS server" \
    "$(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth')"
