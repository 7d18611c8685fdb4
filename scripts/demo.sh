#!/usr/bin/env bash
# The demo on built-in defaults: builds bootsign, makes a CA in ./demo-out/ca, issues a
# server, a code-signing and a client certificate, signs the example payload and verifies
# it, and shows what a user would check. Then it boots: it makes Secure Boot keys, signs a
# kernel and initrd with the demo CA, serves them over HTTPS on 127.0.0.1, builds a
# Secure-Boot-signed ISO that fetches, verifies and boots them, and starts it in QEMU with
# OVMF enforcing Secure Boot with those keys, showing the console through to the booted
# system's first line; then boots the same ISO on a legacy BIOS machine (SeaBIOS).
# `--no-boot` stops before the boot.
set -euo pipefail
cd "$(dirname "$0")/.."
boot=1
if [ "${1:-}" = "--no-boot" ]; then boot=""; fi

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
say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }

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
[ -n "$boot" ] || exit 0

say "Boot: a signed kernel and initrd over HTTPS, under Secure Boot with keys of our own"
fixtures="${BOOTSIGN_FIXTURES:-$HOME/.cache/bootsign-fixtures}"
cp "$fixtures/vmlinuz" "$fixtures/initrd.img" "$out/www/"
step "$bootsign" sign "$out/www/vmlinuz" "$out/www/initrd.img"
say "Serving $out/www over HTTPS on 127.0.0.1 with server.crt (issued above for 10.0.2.2)"
# Like nginx by default, the server takes the client's order of preference: QEMU's default CPU has no AES
# instructions, so the firmware asks for ChaCha20-Poly1305 first.
TLS_CLIENT_ORDER=1 python3 "$repo/tests/common/https_server.py" "$out/www" server-full.crt server.key \
    >"$out/https.port" 2>"$out/https.log" &
server=$!
qemu=""
cleanup() { kill "$server" ${qemu:+"$qemu"} 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do
    if grep -q PORT "$out/https.port" 2>/dev/null; then break; fi
    sleep 0.1
done
port=$(awk '/PORT/ {print $2}' "$out/https.port")
if [ -z "$port" ]; then
    echo "demo: the HTTPS server did not start: $(cat "$out/https.log")" >&2
    exit 1
fi
printf '%s\n' '#!ipxe' 'imgtrust --permanent --all' \
    "kernel https://10.0.2.2:$port/vmlinuz console=ttyS0 panic=-1 quiet" \
    "initrd https://10.0.2.2:$port/initrd.img" \
    "imgverify vmlinuz https://10.0.2.2:$port/vmlinuz.sig" \
    "imgverify initrd.img https://10.0.2.2:$port/initrd.img.sig" \
    'boot' >"$out/boot-https.ipxe"
step cat "$out/boot-https.ipxe"
step "$bootsign" secureboot keys -o "$out/secureboot" --name "bootsign demo"
step "$bootsign" build --iso --trust ca.crt --embed "$out/boot-https.ipxe" \
    --sb-key "$out/secureboot/db.key" --sb-cert "$out/secureboot/db.crt" -o "$out/images" --output-name demo
owner=$(cat "$out/secureboot/owner.guid")
step virt-fw-vars -i /usr/share/OVMF/OVMF_VARS_4M.fd -o "$out/vars.fd" --secure-boot \
    --set-pk "$owner" "$out/secureboot/PK.crt" --add-kek "$owner" "$out/secureboot/KEK.crt" \
    --add-db "$owner" "$out/secureboot/db.crt"
say "Booting demo.iso in QEMU: OVMF enforcing Secure Boot with those keys, user network (the guest reaches 127.0.0.1 as 10.0.2.2), QEMU's default CPU model (no RDRAND: TLS seeds from CPU timing jitter)"
qemu-system-x86_64 -machine q35,smm=on -accel tcg -m 1024 -nographic -no-reboot -monitor none \
    -serial stdio -nodefaults -global driver=cfi.pflash01,property=secure,value=on \
    -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd \
    -drive if=pflash,format=raw,unit=1,file="$out/vars.fd" \
    -netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= \
    -drive if=none,id=cd,format=raw,media=cdrom,readonly=on,file="$out/images/demo.iso" \
    -device ide-cd,drive=cd,bootindex=0 </dev/null >"$out/console.log" 2>&1 &
qemu=$!
# Until the booted system's marker, a refusal, QEMU exiting or five minutes; then the
# console without terminal escapes and blank lines.
wait_for_boot() {
    local log=$1 result=""
    for _ in $(seq 3000); do
        if grep -q "BOOTSIGN-INITRAMFS-OK" "$log"; then result=ok; break; fi
        if grep -q "nothing was booted" "$log" || ! kill -0 "$qemu" 2>/dev/null; then break; fi
        sleep 0.1
    done
    sleep 0.5
    tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' | grep -v '^[[:space:]]*$' || true
    kill "$qemu" 2>/dev/null || true
    if [ "$result" != ok ]; then
        echo "demo: the boot did not reach the booted system; the console is in $log" >&2
        exit 1
    fi
}
wait_for_boot "$out/console.log"
say "The same demo.iso on a legacy BIOS machine: SeaBIOS (QEMU's default firmware), -machine pc, booting it as a CD"
qemu-system-x86_64 -machine pc -accel tcg -m 1024 -nographic -no-reboot -monitor none \
    -serial stdio -nodefaults -netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= \
    -drive if=none,id=cd,format=raw,media=cdrom,readonly=on,file="$out/images/demo.iso" \
    -device ide-cd,drive=cd,bootindex=0 </dev/null >"$out/console-bios.log" 2>&1 &
qemu=$!
wait_for_boot "$out/console-bios.log"
printf '\n\033[1mBooted. bootsign, signed for Secure Boot with the demo db key, fetched the kernel and initrd\n'
printf 'over HTTPS, verified both against the demo CA and started them with Secure Boot on; the same\n'
printf 'image did it again on a legacy BIOS machine.\033[0m\n'
printf 'Consoles: %s (UEFI, Secure Boot), %s (legacy BIOS)\n' "$out/console.log" "$out/console-bios.log"
