#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages mer-script builds against, skipping those present.
# Swift itself (6.x, from swift.org) must already be on PATH.
set -euo pipefail
packages=(liblua5.4-dev libpng-dev libjpeg-dev libedit-dev libfreetype-dev libzmq3-dev fonts-dejavu-core pkg-config)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
command -v swift >/dev/null || { echo "swift not found: install Swift 6 from swift.org first" >&2; exit 1; }
