#!/usr/bin/env bash
# Builds the cargo-fuzz targets and runs each briefly on a seed corpus made from real
# bootsign and OpenSSL output. FUZZ_SECONDS sets the time per target (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-20}"
cargo build --quiet
bootsign="$PWD/target/debug/bootsign"
corpus="$PWD/target/fuzz-corpus"
rm -rf "$corpus"
mkdir -p "$corpus"/{cert,cms,crl,der_view,http_response,config,script,dhcp,pe,tls_client,tls_legacy,image,authenticode,ntp,smbios,bzimage,acpi,pkcs11_uri}

# Seeds: certificates of every kind and signatures with and without attributes.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
    cd "$work"
    "$bootsign" ca init --key p256 --cn "Fuzz CA" 2>/dev/null
    "$bootsign" issue --server --cn seed.example --san 10.0.2.2 --key rsa2048 2>/dev/null
    "$bootsign" issue --codesigning --key p256 2>/dev/null
    head -c 4096 /dev/urandom > payload
    "$bootsign" sign payload -o noattr.sig 2>/dev/null
    "$bootsign" sign payload --pem -o pem.sig 2>/dev/null
    openssl cms -sign -binary -in payload -signer codesign.crt -inkey codesign.key -certfile ca.crt \
        -outform DER -out attr.sig
    for c in ca server codesign; do openssl x509 -in "$c.crt" -outform DER -out "$c.der"; done
    # CRLs: an empty one and one listing a revoked certificate with a reason.
    "$bootsign" crl --der -o empty.crl 2>/dev/null
    "$bootsign" revoke 01 --reason keyCompromise 2>/dev/null
    "$bootsign" crl --der -o revoked.crl 2>/dev/null
    # Boot images: one of each container, holding the real firmware (about 1.3 MB).
    mkdir images
    "$bootsign" build --efi --iso --usb --rom --pci 8086:100e --trust ca.crt -o images 2>/dev/null
    # Signed PE images: one signature by bootsign, and a second appended over it.
    openssl req -x509 -newkey rsa:2048 -nodes -keyout db.key -out db.crt -subj /CN=fuzz-db -days 30 2>/dev/null
    mkdir pe-signed
    "$bootsign" sign --authenticode --cert db.crt --key db.key images/bootsign.efi -o pe-signed/one.efi 2>/dev/null
    "$bootsign" sign --authenticode --cert db.crt --key db.key pe-signed/one.efi -o pe-signed/two.efi 2>/dev/null
)
cp "$work"/*.der "$corpus/cert/"
cp "$work"/*.der "$corpus/der_view/"
cp "$work"/*.sig "$corpus/cms/"
cp "$work"/*.crl "$corpus/crl/"
cp "$work"/images/* "$corpus/image/"
cp "$work"/pe-signed/* "$corpus/authenticode/"
# HTTP responses as servers send them (the first byte sets the fuzzer's split size).
printf '\005HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' > "$corpus/http_response/length"
printf '\003HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n' \
    > "$corpus/http_response/chunked"
printf '\001HTTP/1.0 302 Found\r\nLocation: /next\r\n\r\n' > "$corpus/http_response/redirect"
printf '\003HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 2-4/5\r\nContent-Length: 3\r\nETag: "v1"\r\n\r\nllo' \
    > "$corpus/http_response/partial"
printf '\002HTTP/1.1 503 Service Unavailable\r\nRetry-After: Sat, 05 Dec 2026 10:00:30 GMT\r\nDate: Sat, 05 Dec 2026 10:00:00 GMT\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' \
    > "$corpus/http_response/busy"
# Configurations: an empty one and one with every record type, made by the config crate's example.
cargo run --quiet -p bootsign-config --example seed -- "$corpus/config"
# Scripts: the seed's example and the built-in default.
cp examples/*.ipxe "$corpus/script/"
# A DHCP reply as QEMU's user network sends it, and the firmware template (built by
# the `cargo build` above) as a real PE image.
printf '\002\001\006\000%232s\143\202\123\143\065\001\005\001\004\377\377\377\000\377' '' | tr ' ' '\000' \
    > "$corpus/dhcp/reply"
cp target/firmware/x86_64-unknown-uefi/release/bootsign-firmware.efi "$corpus/pe/firmware.efi"
# An SNTP reply chrony 4.3 sent (the crate's tests hold the request: its first 8 bytes
# here are the nonce the target checks against, then the reply).
python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' \
    75d9cbb42d833472240300e700000000000000007f7f0101eebe66ac8329cb2e75d9cbb42d833472eebe66adab801d87eebe66adab84fc94 \
    > "$corpus/ntp/chrony-reply"
# An SMBIOS 3.0 table (version byte, then type 1 with strings, type 3, end of table).
python3 -c 'import sys; sys.stdout.buffer.write(bytes([0x30, 1, 0x1b, 1, 0, 1, 2, 3, 4]) + bytes(range(16))
    + bytes([6, 0, 0]) + b"ACME\0Box\x001.0\0SN-42\0\0" + bytes([3, 9, 3, 0, 0, 0, 0, 0, 1]) + b"AT-7\0\0"
    + bytes([127, 4, 0xff, 0xff, 0, 0]))' > "$corpus/smbios/qemu-like"
# ACPI tables as SeaBIOS lays them out for QEMU's pc, in one buffer whose offsets are the
# addresses: the RSDP at 0, the RSDT at 0x40, the FADT at 0x80, the DSDT with \_S5 at 0x100.
python3 - "$corpus/acpi/pc-like" <<'PY'
import struct, sys
def fix(t, at):
    t[at] = 0; t[at] = (-sum(t)) & 0xff; return t
def sdt(sig, body):
    t = bytearray(sig + struct.pack("<I", 36 + len(body)) + b"\x01\x00" + b"BOCHS BXPC    " + b"\x01\0\0\0BXPC\x01\0\0\0" + body)
    return fix(t, 9)
mem = bytearray(0x200)
mem[0:20] = fix(bytearray(b"RSD PTR \0BOCHS \0" + struct.pack("<I", 0x40)), 8)
rsdt = sdt(b"RSDT", struct.pack("<I", 0x80)); mem[0x40:0x40 + len(rsdt)] = rsdt
f = bytearray(116 - 36); f[4:8] = struct.pack("<I", 0x100); f[12:16] = struct.pack("<I", 0xb2); f[16] = 0xf1
f[28:32] = struct.pack("<I", 0xb004); f[72] = 0x32
facp = sdt(b"FACP", bytes(f)); mem[0x80:0x80 + len(facp)] = facp
dsdt = sdt(b"DSDT", b"\x08_S5_\x12\x06\x04\x00\x00\x00\x00"); mem[0x100:0x100 + len(dsdt)] = dsdt
open(sys.argv[1], "wb").write(mem)
PY
# The Debian kernel the QEMU tests boot (its first 64 KiB: the setup code and header),
# after a knob byte.
{ printf '\001'; head -c 65536 "${BOOTSIGN_FIXTURES:-$HOME/.cache/bootsign-fixtures}/vmlinuz"; } \
    > "$corpus/bzimage/debian"
printf 'pkcs11:token=boot%%20CA;object=ca;id=%%01%%a2;type=private?pin-source=file:/run/pin&module-path=/usr/lib/softhsm/libsofthsm2.so' \
    > "$corpus/pkcs11_uri/full"
# Inputs that once crashed a target are replayed on every run.
for dir in fuzz/regressions/*/; do
    cp "$dir"* "$corpus/$(basename "$dir")/"
done

cargo +nightly fuzz build
for target in cert cms crl der_view http_response config script dhcp pe tls_client tls_legacy image authenticode ntp smbios bzimage acpi pkcs11_uri; do
    echo "fuzz: $target for ${seconds}s"
    log="$corpus/$target.log"
    if ! cargo +nightly fuzz run "$target" "$corpus/$target" -- -max_total_time="$seconds" \
            -print_final_stats=1 >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz: $target failed; the crashing input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    grep -E '^(Done|stat::peak_rss_mb)' "$log"
done
echo "fuzz: no crashes"
