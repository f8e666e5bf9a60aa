#!/usr/bin/env bash
# README's first command: install what is missing, build in release, run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build -c release
# The main job: DBFEM on the built-in synthetic micro-expressions, leave-one-subject-out.
# Prints accuracy, UF1, UAR and the confusion matrix; writes runs/quickstart-<time>/report.html.
.build/release/mer-script Scripts/quickstart.lua "$@"
