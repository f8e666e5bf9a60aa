#!/usr/bin/env bash
# README's first command: install what is missing, build in release, run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build -c release
# Until the Lua host and the quickstart recipe land, the main job is the engine's benchmark.
.build/release/mer-bench --quick
