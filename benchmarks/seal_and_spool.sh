#!/usr/bin/env bash
# Per-segment cost after encoding: CMS sealing and the durable spool write, release build.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product recorder-bench >&2
BIN="$(swift build -c release --show-bin-path)"
KEYS="$(mktemp -d)"
trap 'rm -rf "$KEYS"' EXIT
for name in current next; do
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$name" -keyout "$KEYS/$name.key" -out "$KEYS/$name.pem" 2>/dev/null
done
"$BIN/recorder-bench" seal --recipient "$KEYS/current.pem" "$@"
"$BIN/recorder-bench" seal --recipient "$KEYS/current.pem" --recipient "$KEYS/next.pem" "$@"
