#!/usr/bin/env bash
# ConsistencySolver on learned grids (issue 17): after `timesteps.sh PRESET GUIDANCE` has made the teacher sets and
# `learn-timesteps` has written its chosen grids (NFE=5,6,8 NAME=learned568), trains ConsistencySolver on those grids
# (`train-consistency --grids`) on the same fit rows, chooses on the same selection rows and validates on the same
# held-out seeds (paired) against its base on the same grid and the best untuned solver at each NFE.
#
#   NFE=5,6,8 NAME=learned568 tuning-jobs/benchmarks/timesteps.sh gmm-sd-d32 7.5 --variants 2
#   tuning-jobs/benchmarks/timesteps-consistency.sh gmm-sd-d32 7.5 [train-consistency options...]
#   CONTROL=1 tuning-jobs/benchmarks/timesteps-consistency.sh gmm-sd-d32 7.5 --spacing karras --min-nfe 5 --max-nfe 8
#
# CONTROL=1 leaves --grids out (the same training on a spacing). Outputs under ${OUT:-work-dirs/ts}/<preset>-g<w>/
# ${RUN:-consistency568} (control: ${RUN:-consistency-control}), resumable from the trainer's checkpoints.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
OUT=${OUT:-work-dirs/ts}
p=$1; g=$2; shift 2
TRAIN=${TRAIN:-256}
HELD=${HELD:-1024}
d=$OUT/$p-g$g
half=$((TRAIN / 2))
if [ -n "${CONTROL:-}" ]; then
    grids=(); run=${RUN:-consistency-control}
else
    grids=(--grids "$d/${GRIDS:-learned568}"); run=${RUN:-consistency568}
fi
java -jar $JAR train-consistency --preset "$p" --per-seed-class --guidance "$g" --train "$d/train" \
    --heldout "$d/heldout$HELD" --train-rows 0:$half --select $half:$half --nfe ${NFE:-5,6,8} \
    --iterations ${ITERATIONS:-1000} "${grids[@]}" --out "$d/$run" "$@"
