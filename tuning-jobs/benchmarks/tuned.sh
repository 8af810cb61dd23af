#!/usr/bin/env bash
# Coefficient methods (DC-Solver, D-ODE, IIA, BIIA) vs their base solvers and the best untuned baseline, per
# benchmark model and guidance scale. Runs after baselines.sh (it reuses its teacher sets in
# ${OUT:-work-dirs/bench}/<preset>-g<w>/): coefficients are fitted on training rows 0..FIT-1, the variant (base solver x
# spacing) and the untuned baseline are chosen per NFE on rows FIT..SELECT_END-1, and both are scored on the 1,024
# held-out seeds. Writes <dir>/tuned/<method>-nfe<n>.json (validated coefficient sets) and <dir>/tuned/summary.json.
# Resumable: fit runs one checkpointed stage per NFE's baseline and per (method, NFE) (<dir>/tuned/fit-<method>-nfe<n>/);
# a rerun reuses every finished stage (the baseline is not swept again) and fits only what is missing, so long runs
# split into chunks; --resume keeps the summary rows of earlier runs for other methods and NFEs.
#
#   tuning-jobs/benchmarks/tuned.sh [PRESET [GUIDANCE]]
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
OUT=${OUT:-work-dirs/bench}
NFE=${NFE:-5,6,8,10}
JAVA=${JAVA:-java}
METHODS=${METHODS:-dc,dc-final,dode,dode-teacher,iia-ddim,iia-ddim-teacher,iia-dpmsolver++2m,iia-dpmsolver++2m-teacher,iia-edm,iia-edm-teacher,biia-edm,biia-edm-teacher}
# when a fit gains over its base on the selection rows: PAIRED_MEAN (default) or PAIRED_MEAN_OR_TYPICAL_SEED
GAIN_TEST=${GAIN_TEST:-PAIRED_MEAN}
TUNED=${TUNED:-tuned}   # output subdirectory of each <preset>-g<w>/
# FIT_FLAGS: extra fit flags, e.g. "--progress" or "--dc-bounds 0.2:2.5"
declare -A GUIDANCE=([gmm-sd-d32]="1 7.5" [fmnist-empirical]="1 5" [fmnist-unet]="1 3")
# fit rows / selection rows of the training teacher set (512 rows; 384 for the UNet)
declare -A FIT=([gmm-sd-d32]=0:128 [fmnist-empirical]=0:128 [fmnist-unet]=0:64)
declare -A SELECT=([gmm-sd-d32]=256:256 [fmnist-empirical]=256:256 [fmnist-unet]=128:256)

run() {
  local preset=$1 g=$2 dir="$OUT/$1-g$2"
  echo "== $preset, guidance $g ($(date -u +%H:%M:%S))"
  $JAVA -jar $JAR fit --preset "$preset" --per-seed-class --guidance "$g" --train "$dir/train" --heldout "$dir/heldout" \
      --fit-rows "${FIT[$preset]}" --select "${SELECT[$preset]}" --nfe "$NFE" --method "$METHODS" --gain-test "$GAIN_TEST" --resume ${FIT_FLAGS:-} --out "$dir/$TUNED"
}

if [ $# -ge 1 ]; then
  for g in ${2:-${GUIDANCE[$1]}}; do run "$1" "$g"; done
else
  for p in gmm-sd-d32 fmnist-empirical; do
    for g in ${GUIDANCE[$p]}; do run "$p" "$g"; done
  done
fi
