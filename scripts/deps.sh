#!/bin/bash
# Install the named Debian packages that are not installed yet (idempotent).
set -euo pipefail
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/apt/periodic/hutch-update-stamp
if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +360)" ]; then
	apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null
	mkdir -p "${stamp%/*}" && touch "$stamp"
fi
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}" >/dev/null
