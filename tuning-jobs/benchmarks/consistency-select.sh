#!/usr/bin/env bash
# ConsistencySolver with checkpoint selection on Fashion-MNIST empirical g1 (BENCHMARKS.md, ConsistencySolver section):
# RL on training rows 0..127, a snapshot scored on the selection rows 256..511 every SELECT_EVERY iterations, each
# NFE's lowest-scoring snapshot validated on the held-out seeds, at several training lengths (SELECT_EVERY=0: the
# last iteration's table, for comparison; the results' lastIteration* fields came from the command before it ran
# through the pipeline's stage, which validates the chosen table only).
#
#   tuning-jobs/benchmarks/consistency-select.sh [ITERATIONS...]      (default: 1000 3000 400)
#
# Needs the packaged jar and the teacher sets of baselines.sh (SWEEP=0 tuning-jobs/benchmarks/baselines.sh
# fmnist-empirical 1). Outputs: ${OUT:-work-dirs/bench}/fmnist-empirical-g1/consistency-select-<n>it/ and the compact
# summaries in tuning-jobs/benchmarks/results/fmnist-empirical-g1/consistency/.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
OUT=${OUT:-work-dirs/bench}
SELECT_EVERY=${SELECT_EVERY:-50}
dir="$OUT/fmnist-empirical-g1"
res=tuning-jobs/benchmarks/results/fmnist-empirical-g1/consistency
for it in "${@:-1000 3000 400}"; do
  for n in $it; do
    out="$dir/consistency-select-${n}it"
    echo "== $n iterations, a snapshot every $SELECT_EVERY ($(date -u +%H:%M:%S))"
    java -jar $JAR train-consistency --preset fmnist-empirical --per-seed-class --guidance 1 \
        --train "$dir/train" --heldout "$dir/heldout" \
        --baseline tuning-jobs/benchmarks/results/fmnist-empirical-g1/tuned/summary.json \
        --form NOISE --spacing time_uniform --iterations "$n" --select-every "$SELECT_EVERY" --nfe 5,6,8 --out "$out"
    python3 tuning-jobs/benchmarks/consistency-compact.py "$out/summary-rl.json" \
        "$res/rl-noise-time_uniform-${n}it-select${SELECT_EVERY}.json"
  done
done
