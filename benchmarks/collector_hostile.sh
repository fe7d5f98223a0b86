#!/usr/bin/env bash
# The collector under attack, bounded (--seconds per phase, default 15): 8 simulated agents' uploads
# alone, with 2 000 silent connections held open, and while 20 clients send wrong passwords (with an
# agent's configuration request timed meanwhile); then the collector's peak RSS while three clients
# download a 1 GB object at once. Release build; all traffic on 127.0.0.0/8.
# Options: --agents N, --seconds S, --idle-connections N, --download-mb MB.
set -euo pipefail
cd "$(dirname "$0")/.."
for product in recorder-bench recorder-collector recorder-agent; do
  swift build -c release --product "$product" >&2
done
"$(swift build -c release --show-bin-path)/recorder-bench" collector-hostile "$@"
