#!/usr/bin/env bash
# Upload throughput to a real Apache mod_dav over HTTPS (Digest) on loopback, release build.
# Starts and stops its own Apache (needs apache2 and openssl: scripts/install-deps).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product recorder-bench >&2
"$(swift build -c release --show-bin-path)/recorder-bench" upload "$@"
