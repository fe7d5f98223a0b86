#!/usr/bin/env bash
# What one collector pays to hold agents that wait for calls: N simulated agents (enrolled through the
# collector's own code) each keep a long poll open over HTTPS and send a heartbeat a minute; printed
# per fleet size: connected agents, the collector's CPU (cores) and RSS, polls answered and heartbeats
# per second. Release build; bounded in time (~2 min per size). Options: --agents 1000,5000, --seconds S.
set -euo pipefail
cd "$(dirname "$0")/.."
for product in recorder-bench recorder-collector; do
  swift build -c release --product "$product" >&2
done
"$(swift build -c release --show-bin-path)/recorder-bench" idle-agents "$@"
