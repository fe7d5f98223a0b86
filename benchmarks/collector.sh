#!/usr/bin/env bash
# Load one collector (SQLite catalog, built-in store, HTTPS on 127.0.0.1) with simulated enrolled
# agents: uploads/s and manifests/s with p50/p99 latency, the collector's CPU and peak RSS, and the
# same upload protocol against Apache mod_dav as the baseline. Release build; bounded in time
# (--seconds per phase, default 20). Options: --agents N, --seconds S, --segment-kb KB.
set -euo pipefail
cd "$(dirname "$0")/.."
for product in recorder-bench recorder-collector recorder-agent; do
  swift build -c release --product "$product" >&2
done
"$(swift build -c release --show-bin-path)/recorder-bench" collector "$@"
