#!/usr/bin/env bash
# Test fixtures for the firmware boots: a real Debian Linux kernel (fetched with apt),
# a busybox initramfs whose /init prints a marker and powers off, and Debian's shim
# signed by Microsoft (for the Secure Boot tests' shim path; extracted, never installed:
# the package would pull in GRUB).
# Writes $BOOTSIGN_FIXTURES (default ~/.cache/bootsign-fixtures)/{vmlinuz,initrd.img,
# shimx64.efi.signed,lighttpd/}; does nothing when they are already there.
set -euo pipefail

dest="${BOOTSIGN_FIXTURES:-$HOME/.cache/bootsign-fixtures}"
mkdir -p "$dest"

if [ ! -s "$dest/vmlinuz" ]; then
    pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-6/{print $2; exit}')
    [ -n "$pkg" ] || { echo "fixtures: no linux-image package found (apt-get update?)" >&2; exit 1; }
    work=$(mktemp -d)
    (
        cd "$work"
        echo "fixtures: downloading $pkg" >&2
        apt-get download -q "$pkg" >/dev/null
        dpkg-deb --fsys-tarfile ./*.deb | tar -x --wildcards './boot/vmlinuz-*'
    )
    cp "$work"/boot/vmlinuz-* "$dest/vmlinuz.tmp"
    mv "$dest/vmlinuz.tmp" "$dest/vmlinuz"
    rm -rf "$work"
fi

if [ ! -s "$dest/initrd.img" ]; then
    work=$(mktemp -d)
    mkdir -p "$work/root"/{bin,dev,proc,sys}
    cp "$(command -v busybox)" "$work/root/bin/busybox"
    ln -s busybox "$work/root/bin/sh"
    mknod -m 600 "$work/root/dev/console" c 5 1
    cat > "$work/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "BOOTSIGN-INITRAMFS-OK cmdline: $(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
INIT
    chmod 755 "$work/root/init"
    (cd "$work/root" && find . | sort | cpio -o -H newc --quiet | gzip -9 > "$work/initrd.img")
    mv "$work/initrd.img" "$dest/initrd.img"
    rm -rf "$work"
fi
if [ ! -s "$dest/shimx64.efi.signed" ]; then
    work=$(mktemp -d)
    (
        cd "$work"
        echo "fixtures: downloading shim-signed" >&2
        apt-get download -q shim-signed >/dev/null
        dpkg-deb -x ./shim-signed_*.deb x
    )
    cp "$work/x/usr/lib/shim/shimx64.efi.signed" "$dest/shimx64.efi.signed.tmp"
    mv "$dest/shimx64.efi.signed.tmp" "$dest/shimx64.efi.signed"
    rm -rf "$work"
fi
# lighttpd (extracted, never installed: installing would start a service), the real
# server for the HTTP authentication tests (Basic and Digest).
if [ ! -x "$dest/lighttpd/lighttpd" ] || [ ! -f "$dest/lighttpd/mod_accesslog.so" ]; then
    work=$(mktemp -d)
    (
        cd "$work"
        echo "fixtures: downloading lighttpd" >&2
        apt-get download -q lighttpd >/dev/null
        dpkg-deb -x ./lighttpd_*.deb x
    )
    rm -rf "$dest/lighttpd.tmp"
    mkdir -p "$dest/lighttpd.tmp"
    cp "$work/x/usr/sbin/lighttpd" "$work"/x/usr/lib/lighttpd/mod_auth*.so "$work"/x/usr/lib/lighttpd/mod_accesslog.so "$dest/lighttpd.tmp/"
    rm -rf "$dest/lighttpd"
    mv "$dest/lighttpd.tmp" "$dest/lighttpd"
    rm -rf "$work"
fi
echo "$dest"
