#!/usr/bin/env bash
# Install the Debian packages attnscope builds and tests with, if any are missing.
# Says what it installs; uses sudo when not root. Extra package names may be given
# as arguments (bench adds python3-torch, for instance).
set -euo pipefail
need=(gcc make pkg-config libopenblas-dev libncurses-dev libconfig-dev libcjson-dev
      libcmocka-dev libcairo2-dev libsentencepiece-dev tmux locales ncurses-term jq
      python3-numpy "$@")
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "attnscope: installing missing Debian packages: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
