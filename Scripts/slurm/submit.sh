#!/bin/bash
# Submits a recipe's LOSO folds as a Slurm job array plus the merge that pools them:
#
#   Scripts/slurm/submit.sh --array 1-26 [--run DIR] [--sbatch OPTION]... RECIPE [recipe options]
#
# e.g. Scripts/slurm/submit.sh --array 1-26 --sbatch --cpus-per-task=8 --sbatch --mem=8G \
#          Scripts/casme2_dbfem.lua --data /data/CASME2
#
# Creates the run directory (default runs/<recipe>-slurm-<date>, made absolute: every node
# must see it on a shared filesystem) and its logs/ folder before anything is queued, so
# Slurm can open the tasks' output files there; submits Scripts/slurm/loso.sbatch as the
# array and Scripts/slurm/merge.sbatch with --dependency=afterany on it (the merge then
# runs even when a fold failed, and names it). --sbatch passes one option to both sbatch
# calls of the array (repeat it). The mer-script the jobs run is $MER_SCRIPT, else the
# release build of this checkout, else mer-script on PATH. Prints the job ids and the path
# of the report the merge writes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: $0 --array RANGE [--run DIR] [--sbatch OPTION]... RECIPE [recipe options]" >&2; exit 2; }
array="" run="" sbatch_opts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --array) [ $# -ge 2 ] || usage; array=$2; shift 2 ;;
    --run) [ $# -ge 2 ] || usage; run=$2; shift 2 ;;
    --sbatch) [ $# -ge 2 ] || usage; sbatch_opts+=("$2"); shift 2 ;;
    -h|--help) usage ;;
    *) break ;;
  esac
done
[ -n "$array" ] && [ $# -ge 1 ] || usage
recipe=$1; shift
[ -f "$recipe" ] || { echo "submit.sh: no recipe $recipe" >&2; exit 1; }
recipe=$(cd "$(dirname "$recipe")" && pwd)/$(basename "$recipe")
if [ -z "${MER_SCRIPT:-}" ]; then
  if [ -x "$here/../../.build/release/mer-script" ]; then MER_SCRIPT=$(cd "$here/../../.build/release" && pwd)/mer-script
  else MER_SCRIPT=$(command -v mer-script) || { echo "submit.sh: no mer-script (set MER_SCRIPT)" >&2; exit 1; }
  fi
fi
export MER_SCRIPT
[ -n "$run" ] || run=runs/$(basename "$recipe" .lua)-slurm-$(date +%Y%m%d-%H%M%S)
mkdir -p "$run/logs"
run=$(cd "$run" && pwd)

folds=$(sbatch --parsable --array="$array" --output="$run/logs/%x-%A_%a.out" "${sbatch_opts[@]}" \
        "$here/loso.sbatch" "$recipe" "$run" "$@")
folds=${folds%%;*}
merge=$(sbatch --parsable --dependency="afterany:$folds" --output="$run/logs/%x-%j.out" \
        "$here/merge.sbatch" "$run")
merge=${merge%%;*}
echo "fold array: job $folds (tasks $array), logs in $run/logs"
echo "merge: job $merge (after the array ends)"
echo "report: $run/report.html (metrics.json beside it)"
