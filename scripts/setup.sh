#!/usr/bin/env bash
# Installs everything bootsign's build, demo and tests need on a fresh Debian machine
# with only the Rust toolchain. Safe to run again: it installs only what is missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The plain firmware, and for the Secure Boot tests the SMM build with Microsoft's keys.
for fd in OVMF_CODE_4M.fd OVMF_CODE_4M.secboot.fd OVMF_VARS_4M.ms.fd; do
    [ -f "/usr/share/OVMF/$fd" ] || { missing+=(ovmf); break; }
done
# The NICs' PXE ROMs (iPXE builds) that SeaBIOS runs in the .kpxe tests; QEMU depends on
# them, named here because those tests need them.
[ -f /usr/lib/ipxe/qemu/efi-rtl8139.rom ] || missing+=(ipxe-qemu)
command -v busybox >/dev/null 2>&1 || missing+=(busybox-static)
command -v cpio >/dev/null 2>&1 || missing+=(cpio)
command -v mdir >/dev/null 2>&1 || missing+=(mtools)
command -v xorriso >/dev/null 2>&1 || missing+=(xorriso)
command -v file >/dev/null 2>&1 || missing+=(file)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v sfdisk >/dev/null 2>&1 || [ -x /usr/sbin/sfdisk ] || missing+=(fdisk)
# sbsign and sbverify check bootsign's Authenticode signatures (and make theirs for it);
# efitools' cert-to-efi-sig-list and sign-efi-sig-list check `secureboot keys`.
command -v sbsign >/dev/null 2>&1 || missing+=(sbsigntool)
command -v sign-efi-sig-list >/dev/null 2>&1 || missing+=(efitools)
# PKCS#11: SoftHSM2 (a software token, a fresh one per test), OpenSC's pkcs11-tool (puts
# objects into it), and the OpenSSL 1.1 engine through which sbsign and osslsigncode sign
# with a token key (the OpenSSL 3 provider comes from backports, below).
command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || missing+=(opensc)
[ -f /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so ] || missing+=(libengine-pkcs11-openssl)
# The BIOS SAN test assembles its boot sector with as and objcopy; the PKCS#11 test types
# a PIN at a pseudo-terminal through script.
command -v objcopy >/dev/null 2>&1 && command -v as >/dev/null 2>&1 || missing+=(binutils)
command -v script >/dev/null 2>&1 || missing+=(bsdutils)
# A software TPM: the Secure Boot tests check what bootsign measures into PCR 4.
command -v swtpm >/dev/null 2>&1 || missing+=(swtpm)
# A real NTP server (chronyd, run unprivileged-style on a test port) for the `ntp` tests.
command -v chronyd >/dev/null 2>&1 || [ -x /usr/sbin/chronyd ] || missing+=(chrony)
# The libraries of lighttpd (the HTTP authentication tests' server, which fixtures.sh
# extracts without installing the package and its service).
for lib in libxxhash0 libnettle8 libpcre2-8-0 libcrypt1; do
    dpkg -s "$lib" >/dev/null 2>&1 || missing+=("$lib")
done
updated=""

if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    $SUDO apt-get update -qq
    updated=1
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# On Debian 12 these come from bookworm-backports: QEMU (system and user), because the machine's qemu-utils
# is the backports version and bookworm's own qemu-system-x86 refuses to install beside
# it; virt-fw-vars (enrols Secure Boot keys), which only backports has; osslsigncode,
# because bookworm's 2.5 predates what the Authenticode interop tests use (2.9).
backports=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || backports+=(qemu-system-x86)
# qemu-user runs the SHA-NI and AES-NI tests on an emulated CPU (-cpu max) where the
# host's lacks the instructions, so they never pass without testing.
command -v qemu-x86_64 >/dev/null 2>&1 || backports+=(qemu-user)
command -v virt-fw-vars >/dev/null 2>&1 || backports+=(python3-virt-firmware)
# pkcs11-provider: `openssl cms` signing with a token key, for the byte-for-byte comparison.
[ -f /usr/lib/x86_64-linux-gnu/ossl-modules/pkcs11.so ] || backports+=(pkcs11-provider)
ossl_version=$(osslsigncode --version 2>/dev/null | awk 'NR == 1 {print $2}' | tr -d ,)
if [ -z "$ossl_version" ] || ! printf '2.9\n%s\n' "$ossl_version" | sort -C -V; then
    backports+=(osslsigncode)
fi

if [ ${#backports[@]} -gt 0 ]; then
    echo "setup: installing ${backports[*]}" >&2
    if [ -f /etc/debian_version ] && grep -q '^12' /etc/debian_version; then
        if [ ! -f /etc/apt/sources.list.d/bookworm-backports.sources ]; then
            $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        fi
        $SUDO apt-get update -qq
        updated=1
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
            -t bookworm-backports "${backports[@]}" >/dev/null
    else
        $SUDO apt-get update -qq
        updated=1
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${backports[@]}" >/dev/null
    fi
fi

# A real kernel and a busybox initramfs for the boot tests, and Debian's signed shim for
# the Secure Boot tests (all fetched with apt-get download, none installed).
fixtures="${BOOTSIGN_FIXTURES:-$HOME/.cache/bootsign-fixtures}"
if { [ ! -s "$fixtures/vmlinuz" ] || [ ! -s "$fixtures/shimx64.efi.signed" ] || [ ! -f "$fixtures/lighttpd/mod_accesslog.so" ]; } \
    && [ -z "$updated" ]; then
    $SUDO apt-get update -qq
fi
"$(dirname "$0")/fixtures.sh" >/dev/null

# The firmware's targets: UEFI, and bare metal for the legacy BIOS firmware (whose
# bzImage build.rs flattens with binutils' objcopy, which comes with gcc).
for target in x86_64-unknown-uefi x86_64-unknown-none; do
    if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
        rustup target add "$target"
    fi
done

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
