#!/usr/bin/env bash
# Installs everything bootsign's build, demo and tests need on a fresh Debian machine
# with only the Rust toolchain. Safe to run again: it installs only what is missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing+=(ovmf)
command -v busybox >/dev/null 2>&1 || missing+=(busybox-static)
command -v cpio >/dev/null 2>&1 || missing+=(cpio)
command -v mdir >/dev/null 2>&1 || missing+=(mtools)
command -v xorriso >/dev/null 2>&1 || missing+=(xorriso)
command -v file >/dev/null 2>&1 || missing+=(file)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v sfdisk >/dev/null 2>&1 || [ -x /usr/sbin/sfdisk ] || missing+=(fdisk)
updated=""

if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    $SUDO apt-get update -qq
    updated=1
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# QEMU comes from bookworm-backports: the machine's qemu-utils is the backports version,
# and bookworm's own qemu-system-x86 refuses to install beside it.
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    if [ -f /etc/debian_version ] && grep -q '^12' /etc/debian_version; then
        $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        $SUDO apt-get update -qq
        updated=1
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
            -t bookworm-backports qemu-system-x86 >/dev/null
    else
        $SUDO apt-get update -qq
        updated=1
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
    fi
fi

# A real kernel and a busybox initramfs for the boot tests.
if [ ! -s "${BOOTSIGN_FIXTURES:-$HOME/.cache/bootsign-fixtures}/vmlinuz" ] && [ -z "$updated" ]; then
    $SUDO apt-get update -qq
fi
"$(dirname "$0")/fixtures.sh" >/dev/null

# The no_std crates are also built for the firmware's target.
if ! rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-uefi; then
    rustup target add x86_64-unknown-uefi
fi

# Fuzzing needs a nightly toolchain and cargo-fuzz.
if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
        rustup component add "$component"
    fi
done
