#!/usr/bin/env bash
# DPM-Solver-v3 with learned timesteps (issue 17) on the mixture: teacher sets (the training set records every 2nd of
# its 500 logSNR steps, K = 250, for teacher-source statistics), DPM-Solver-v3 statistics fitted on the training
# teacher's states, then `learn-timesteps` at NFE 5 with and without `--v3` on the same rows and held-out seeds.
#
#   tuning-jobs/benchmarks/timesteps-v3.sh GUIDANCE [learn-timesteps options...]
#
# Needs the packaged jar (mvn -B -q package -DskipTests). Outputs under ${OUT:-work-dirs/v3ts}/gmm-sd-d32-g<w>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
OUT=${OUT:-work-dirs/v3ts}
g=$1; shift
d=$OUT/gmm-sd-d32-g$g
mkdir -p "$d"
[ -f "$d/train/trajectories.json" ] || java -jar $JAR teacher --preset gmm-sd-d32 --per-seed-class --guidance "$g" \
    --seeds 0:256 --steps 500 --record-every 2 --tolerance 1e-4 --out "$d/train" | grep -E '^teacher|^wrote'
[ -f "$d/ems-teacher/ems.json" ] || java -jar $JAR fit-ems --preset gmm-sd-d32 --per-seed-class --guidance "$g" \
    --source teacher --teacher "$d/train" --samples 256 --l-method exact --out "$d/ems-teacher" | grep '^fit-ems'
[ -f "$d/heldout1024/trajectories.json" ] || java -jar $JAR teacher --preset gmm-sd-d32 --per-seed-class \
    --guidance "$g" --seeds 1000000:1024 --steps 500 --record-every 500 --tolerance 1e-4 --out "$d/heldout1024" \
    | grep -E '^teacher|^wrote'
for v in without with; do
  extra=()
  [ $v = with ] && extra=(--v3 "$d/ems-teacher")
  java -jar $JAR learn-timesteps --preset gmm-sd-d32 --per-seed-class --guidance "$g" --train "$d/train" \
      --heldout "$d/heldout1024" --fit-rows 0:128 --select 128:128 --nfe 5 --reference-nfe 8 --resume \
      --out "$d/learned-$v-v3" "${extra[@]}" "$@"
done
