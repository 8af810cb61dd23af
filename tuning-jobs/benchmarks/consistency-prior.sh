#!/usr/bin/env bash
# ConsistencySolver with the multistep prior (BENCHMARKS.md, ConsistencySolver, "Multistep prior"): the data form,
# coefficients = DPM-Solver++ kM's + the network's head, checkpoint selection on (the default: 20 snapshots and
# iteration 0, the prior solver itself), validated on the 1,024 held-out seeds against DDIM, the best untuned solver and
# the prior solver.
#
#   tuning-jobs/benchmarks/consistency-prior.sh PRESET GUIDANCE SPACING [PRIOR_ORDER [ITERATIONS]]
#   e.g. consistency-prior.sh gmm-sd-d32 7.5 karras 2 1000; consistency-prior.sh fmnist-empirical 1 time_uniform 3
#
# Needs the packaged jar and the teacher sets of baselines.sh (SWEEP=0 tuning-jobs/benchmarks/baselines.sh PRESET G).
# Outputs: ${OUT:-work-dirs/bench}/PRESET-gG/consistency-prior<k>-<n>it/ and the compact summary in
# tuning-jobs/benchmarks/results/PRESET-gG/consistency/rl-data-prior-multistep<k>-SPACING-<n>it-select50.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
OUT=${OUT:-work-dirs/bench}
p=$1; g=$2; sp=$3; k=${4:-3}; n=${5:-1000}
dir="$OUT/$p-g$g"
out="$dir/consistency-prior$k-${n}it"
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} java -jar $JAR train-consistency --preset "$p" --per-seed-class --guidance "$g" \
    --train "$dir/train" --heldout "$dir/heldout" \
    --baseline "tuning-jobs/benchmarks/results/$p-g$g/tuned/summary.json" \
    --form DATA --prior MULTISTEP --prior-order "$k" --spacing "$sp" --iterations "$n" --nfe 5,6,8 --progress \
    --out "$out"
python3 tuning-jobs/benchmarks/consistency-compact.py "$out/summary-rl.json" \
    "tuning-jobs/benchmarks/results/$p-g$g/consistency/rl-data-prior-multistep$k-$sp-${n}it-select$(( (n + 19) / 20 )).json"
