#!/usr/bin/env bash
# ConsistencySolver's grid refined for its own table (issue 17, `train-consistency --refine-grid`): after
# `timesteps.sh PRESET GUIDANCE` has made the teacher sets, trains ConsistencySolver at --nfe 5 on time_uniform (or,
# with GRIDS=DIR, on the grids `learn-timesteps --out DIR` chose), then optimises each table's grid for its fixed
# coefficients (CMA-ES from the table's grid on the fit rows, REFINE evaluations), keeps it where it beats the table on
# the selection rows and validates it on the held-out seeds against the table on its own grid and the best untuned
# solver (paired).
#
#   tuning-jobs/benchmarks/consistency-refine.sh gmm-sd-d32 7.5 [train-consistency options...]
#   GRIDS=tuning-jobs/benchmarks/results/timesteps/gmm-sd-d32-g1/learned568 tuning-jobs/benchmarks/consistency-refine.sh gmm-sd-d32 1
#
# Outputs under ${OUT:-work-dirs/ts}/<preset>-g<w>/${RUN:-consistency-refine} (with GRIDS: consistency-grids-refine),
# resumable (the trainer's checkpoints and the refinement's journal).
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
OUT=${OUT:-work-dirs/ts}
p=$1; g=$2; shift 2
TRAIN=${TRAIN:-256}
HELD=${HELD:-1024}
d=$OUT/$p-g$g
half=$((TRAIN / 2))
if [ -n "${GRIDS:-}" ]; then
    grids=(--grids "$GRIDS"); run=${RUN:-consistency-grids-refine}
else
    grids=(); run=${RUN:-consistency-refine}
fi
java -jar $JAR train-consistency --preset "$p" --per-seed-class --guidance "$g" --train "$d/train" \
    --heldout "$d/heldout$HELD" --train-rows 0:$half --select $half:$half --nfe ${NFE:-5} \
    --iterations ${ITERATIONS:-1000} "${grids[@]}" --refine-grid --refine-evaluations ${REFINE:-60} \
    --out "$d/$run" "$@"
