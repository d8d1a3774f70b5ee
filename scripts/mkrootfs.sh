#!/bin/bash
# Assemble a minimal busybox root filesystem from Debian's busybox-static.
set -euo pipefail
dst=${1:?usage: mkrootfs.sh DIR}
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkrootfs: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
tmp=$dst.tmp
rm -rf "$tmp"
mkdir -p "$tmp"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin,var,run,home}
chmod 1777 "$tmp/tmp"
cp "$bb" "$tmp/bin/busybox"
for app in $("$bb" --list-full); do
	[ -e "$tmp/$app" ] || ln -s /bin/busybox "$tmp/$app"
done
cat > "$tmp/etc/passwd" <<PW
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$tmp/etc/group" <<GR
root:x:0:
nogroup:x:65534:
GR
echo hutch > "$tmp/etc/hostname"
rm -rf "$dst"
mv "$tmp" "$dst"
