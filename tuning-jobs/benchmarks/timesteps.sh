#!/usr/bin/env bash
# Learned timesteps (issue 17) on one benchmark row: teacher sets, then `learn-timesteps` at NFE 5 against the best
# untuned solver at NFE 5 and at NFE 8, on the same held-out seeds (paired).
#
#   tuning-jobs/benchmarks/timesteps.sh PRESET GUIDANCE [learn-timesteps options...]
#
# Needs the packaged jar (mvn -B -q package -DskipTests). Outputs under ${OUT:-work-dirs/ts}/<preset>-g<w>/, resumable
# (finished teacher shards and written sets are kept). Budgets: TRAIN training seeds (fit rows 0..TRAIN/2-1, selection
# rows TRAIN/2..TRAIN-1), HELD held-out seeds, teacher DPM-Solver++ 3M with STEPS logSNR steps (300 for the UNet).
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
OUT=${OUT:-work-dirs/ts}
p=$1; g=$2; shift 2
TRAIN=${TRAIN:-256}
HELD=${HELD:-1024}
case $p in fmnist-unet) STEPS=${STEPS:-300}; TOL=5e-3 ;; *) STEPS=${STEPS:-500}; TOL=1e-4 ;; esac
d=$OUT/$p-g$g
mkdir -p "$d"
java -jar $JAR teacher --preset "$p" --per-seed-class --guidance "$g" --seeds 0:$TRAIN --steps $STEPS \
    --record-every $STEPS --tolerance $TOL --out "$d/train" | grep -E '^teacher|^wrote'
java -jar $JAR teacher --preset "$p" --per-seed-class --guidance "$g" --seeds 1000000:$HELD --steps $STEPS \
    --record-every $STEPS --tolerance $TOL --out "$d/heldout$HELD" | grep -E '^teacher|^wrote'
half=$((TRAIN / 2))
java -jar $JAR learn-timesteps --preset "$p" --per-seed-class --guidance "$g" --train "$d/train" \
    --heldout "$d/heldout$HELD" --fit-rows 0:$half --select $half:$half --nfe ${NFE:-5} --reference-nfe ${REF:-8} \
    --resume --out "$d/${NAME:-learned}" "$@"
