#!/usr/bin/env bash
# The whole test suite: installs what it needs, checks formatting and lints, then runs
# every unit and integration test (OpenSSL interop included).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The firmware: the platform-independent core, and a workspace per platform (UEFI, and
# the legacy BIOS for bare metal).
cargo fmt --manifest-path firmware/core/Cargo.toml --check
cargo clippy --manifest-path firmware/core/Cargo.toml --all-targets --quiet -- -D warnings
# The core's host tests (its NIC drivers against register-level device models).
cargo test --manifest-path firmware/core/Cargo.toml --quiet
cargo fmt --manifest-path firmware/uefi/Cargo.toml --check
cargo clippy --manifest-path firmware/uefi/Cargo.toml --release --target x86_64-unknown-uefi --quiet -- -D warnings
cargo fmt --manifest-path firmware/bios/Cargo.toml --check
(cd firmware/bios && cargo clippy --release --target x86_64-unknown-none --quiet -- -D warnings)
# The no_std crates must stay no_std: they are linked into the UEFI firmware.
cargo build --quiet -p bootsign-pki -p bootsign-config -p bootsign-http -p bootsign-script -p bootsign-pe -p bootsign-dhcp -p bootsign-tls -p bootsign-image-read -p bootsign-efivar -p bootsign-ntp -p bootsign-entropy -p bootsign-smbios -p bootsign-pkcs11-uri --target x86_64-unknown-uefi
# Short fuzzing runs of the parsers that read network and file input.
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" scripts/fuzz.sh

cargo test --workspace --all-targets
