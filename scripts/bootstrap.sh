#!/usr/bin/env bash
# Prepares a fresh clone: system tools the tests and examples drive (as root, from
# Debian's packages), pnpm, the workspace dependencies, and the TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."

# Outside tools: `ip` (oracle and namespaces), ping, tcpdump (pcap oracle),
# iperf3 (TCP peers in namespaces), libslirp0 (the slirp example's TCP/IP stack).
declare -A tool_pkg=([ip]=iproute2 [ping]=iputils-ping [tcpdump]=tcpdump [iperf3]=iperf3 [setpriv]=util-linux)
missing=()
for tool in "${!tool_pkg[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${tool_pkg[$tool]}")
done
if ! ldconfig -p 2>/dev/null | grep -q 'libslirp.so.0'; then missing+=(libslirp0); fi
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing system packages: ${missing[*]} (install them as root; device tests need them)" >&2
  fi
fi

if ! command -v pnpm >/dev/null 2>&1; then
  echo "bootstrap: installing pnpm" >&2
  npm install -g --silent pnpm@12 >/dev/null
fi

if [[ -f pnpm-lock.yaml ]]; then
  pnpm install --frozen-lockfile --reporter=silent
else
  pnpm install --reporter=silent
fi
pnpm exec tsc -b
