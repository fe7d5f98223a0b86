#!/usr/bin/env bash
# The player on an hour-long call in headless Chromium (release build): time to the first frame on
# opening the call and after a seek near its end, screen against voice after seeks spread over the
# call, and while playing at 2x across segment switches. Options: --minutes N, --play-seconds S.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product recorder-bench >&2
"$(swift build -c release --show-bin-path)/recorder-bench" player "$@"
