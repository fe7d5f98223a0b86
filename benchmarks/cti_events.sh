#!/usr/bin/env bash
# Call events one collector accepts (POST /api/v1/cti/events over HTTPS on 127.0.0.1): batches and
# single events from parallel integrations, each event stored once with its raw body and routed,
# with p50/p99 per post and the collector's CPU and peak RSS. Release build; bounded in time.
# Options: --clients N, --seconds S, --batch N, --postgres (also against a PostgreSQL started for the run).
set -euo pipefail
cd "$(dirname "$0")/.."
for product in recorder-bench recorder-collector; do
  swift build -c release --product "$product" >&2
done
"$(swift build -c release --show-bin-path)/recorder-bench" cti-events "$@"
