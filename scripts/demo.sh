#!/usr/bin/env bash
# The demo on built-in defaults: builds bootsign, makes a CA in ./demo-out/ca, issues a
# server, a code-signing and a client certificate, signs the example payload and verifies
# it, and shows what a user would check.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo build --release --quiet
repo="$PWD"
bootsign="$repo/target/release/bootsign"

out="$PWD/demo-out"
rm -rf "$out"
mkdir -p "$out/ca"
cd "$out/ca"
export BOOTSIGN_CA_DIR="$out/ca"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$bootsign" ca init --cn "bootsign demo CA"
step "$bootsign" issue --server --cn boot.example.lan --san 10.0.2.2 --chain
step "$bootsign" issue --codesigning
step "$bootsign" issue --client --cn demo-node --key p256
step "$bootsign" fingerprint ca.crt
step "$bootsign" list
step openssl verify -CAfile ca.crt -purpose sslserver server.crt
step openssl verify -CAfile ca.crt -purpose sslclient client.crt
mkdir -p "$out/www"
cp "$repo/examples/signed-boot.ipxe" "$out/www/boot.ipxe"
step "$bootsign" sign "$out/www/boot.ipxe"
step "$bootsign" verify "$out/www/boot.ipxe" --trust ca.crt
step openssl cms -verify -binary -inform DER -in "$out/www/boot.ipxe.sig" -content "$out/www/boot.ipxe" \
    -CAfile ca.crt -purpose any -out /dev/null
mkdir -p "$out/images"
step "$bootsign" build --efi --iso --usb --rom --pci 1af4:1000 --trust ca.crt \
    --embed "$repo/examples/signed-boot.ipxe" -o "$out/images"
step "$bootsign" inspect "$out/images/bootsign.iso"

printf '\nDemo CA and certificates are in %s, images in %s\n' "$out/ca" "$out/images"
