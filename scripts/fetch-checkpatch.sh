#!/bin/bash
# checkpatch.pl for the module's style check: Debian's headers do not ship it, so take
# scripts/checkpatch.pl (and the data files it reads) out of Debian's linux-source-6.1.
set -euo pipefail
dst=${1:?usage: fetch-checkpatch.sh DIR}
[ -x "$dst/scripts/checkpatch.pl" ] && exit 0
tmp=$(mktemp -d)
chmod 755 "$tmp"   # apt downloads as _apt
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q linux-source-6.1 >/dev/null)
mkdir -p "$tmp/out"
dpkg-deb --fsys-tarfile "$tmp"/linux-source-6.1_*.deb |
	tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
	tar -xJ -C "$tmp/out" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
mkdir -p "$dst"
rm -rf "$dst/scripts"
mv "$tmp/out/scripts" "$dst/scripts"
