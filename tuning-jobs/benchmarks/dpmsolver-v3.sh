#!/usr/bin/env bash
# DPM-Solver-v3 with fitted statistics vs the best untuned baseline, per benchmark model and guidance scale.
# Runs after baselines.sh (it reuses its teacher sets in ${OUT:-work-dirs/bench}/<preset>-g<w>/):
#   1. EMS from noised data samples (the paper) and from the guided teacher's own trajectory states (rows 0..255 of
#      the training set), on the training teacher's recorded logSNR grid (K = 250 for gmm, 100 for fmnist);
#   2. v3 variants (order 2/3, corrector, pseudo orders x time_uniform/logSNR) and the untuned baselines are chosen on
#      training rows 256..511 (not used by the fit) and scored on the 1024 held-out seeds.
#
#   tuning-jobs/benchmarks/dpmsolver-v3.sh [PRESET [GUIDANCE]]
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
OUT=${OUT:-work-dirs/bench}
NFE=${NFE:-5,6,8,10}
JAVA=${JAVA:-java}
declare -A GUIDANCE=([gmm-sd-d32]="1 7.5" [fmnist-empirical]="1 5" [fmnist-unet]="1 3")
# l: exact Jacobian diagonal (mixture), autograd VJP (empirical), central differences (TorchScript runs without autograd)
declare -A LMETHOD=([gmm-sd-d32]=exact [fmnist-empirical]=vjp [fmnist-unet]=fd)
declare -A SAMPLES=([gmm-sd-d32]=1024 [fmnist-empirical]=512 [fmnist-unet]=256)
# rows of the training teacher set: the EMS is fitted on the first FIT rows, variants are chosen on SELECT
declare -A FIT=([gmm-sd-d32]=256 [fmnist-empirical]=256 [fmnist-unet]=128)
declare -A SELECT=([gmm-sd-d32]=256:256 [fmnist-empirical]=256:256 [fmnist-unet]=128:256)

run() {
  local preset=$1 g=$2 dir="$OUT/$1-g$2"
  echo "== $preset, guidance $g ($(date -u +%H:%M:%S))"
  # the network's data: Fashion-MNIST images (those of the empirical preset)
  local data=()
  [ "$preset" = fmnist-unet ] && data=(--data-preset fmnist-empirical)
  $JAVA -jar $JAR fit-ems --preset "$preset" --per-seed-class --guidance "$g" --source data --teacher "$dir/train" "${data[@]}" \
      --samples "${SAMPLES[$preset]}" --l-method "${LMETHOD[$preset]}" --out "$dir/ems-data" | grep '^fit-ems'
  $JAVA -jar $JAR fit-ems --preset "$preset" --per-seed-class --guidance "$g" --source teacher --teacher "$dir/train" \
      --samples "${FIT[$preset]}" --l-method "${LMETHOD[$preset]}" --out "$dir/ems-teacher" | grep '^fit-ems'
  $JAVA -jar $JAR sweep --preset "$preset" --per-seed-class --guidance "$g" --train "$dir/train" --heldout "$dir/heldout" \
      --select "${SELECT[$preset]}" --nfe "$NFE" --v3 "$dir/ems-data" --v3 "$dir/ems-teacher" --json "$dir/v3.json"
}

if [ $# -ge 1 ]; then
  for g in ${2:-${GUIDANCE[$1]}}; do run "$1" "$g"; done
else
  for p in gmm-sd-d32 fmnist-empirical; do
    for g in ${GUIDANCE[$p]}; do run "$p" "$g"; done
  done
fi
