#!/usr/bin/env bash
# Call search with a large catalog: 100 000 calls across 200 workstations under 10 sites, then the
# searches QA runs (newest, a day, an ANI prefix, a queue with a length bound, an agent's week, calls
# with voice, and a supervisor's scoped list), each the median of 7 runs, on SQLite and (with
# --postgres) a PostgreSQL started for the run. Release build. Options: --calls N, --postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product recorder-bench >&2
"$(swift build -c release --show-bin-path)/recorder-bench" search "$@"
