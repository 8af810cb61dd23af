#!/bin/sh
# Counts what the typed publish contract and the typed pipeline vocabulary changed (issue 15), for one revision.
# Usage: docs/architecture-counts.sh REV   (e.g. 9d68ecf, the review's baseline, and HEAD)
set -e
rev=${1:-HEAD}
main=src/main/java/io/solvertune
# the road from a fitted set to a download: the job pipeline, the publish contract, the config store, the exports
road="$main/tuning/job $main/tuning/publish $main/service/configs $main/service/jobs $main/exports"
sum() { awk '{s += $NF} END {print s + 0}'; }
files() { git ls-tree -r --name-only "$rev" -- $road | grep '\.java$' || true; }
lines() { for f in $(files); do git show "$rev:$f"; done | wc -l; }
grepc() { git grep -c -E "$1" "$rev" -- $2 2>/dev/null | awk -F: '{s += $NF} END {print s + 0}'; }
echo "revision                                   $(git rev-parse --short "$rev")"
echo "road files (.java)                         $(files | wc -l)"
echo "road lines                                 $(lines)"
echo "candidate shapes (PublishCandidate, ConfigCandidate, ConfigStore.Row, PipelineValues)  $(grepc '^public (final )?(record|class) (PublishCandidate|PipelineValues)\b|^public record ConfigCandidate\(|^    record Row\(' "$road")"
echo "JSON round trips on the road (readTree|treeToValue|valueToTree|convertValue|fromJson|ConfigValues.parse)  $(grepc 'readTree\(|treeToValue\(|valueToTree\(|convertValue\(|fromJson\(|ConfigValues\.parse\(' "$road")"
echo "string-keyed puts in PublishStage (.put(\"|.set(\"|.putObject(\")  $(grepc '\.(put|set|putObject|putArray)\("' "$main/tuning/job/PublishStage.java")"
echo "has(\"type\") recognition                   $(grepc 'has\("type"\)' "$main")"
echo "job/stage state literals in service/jobs   $(git grep -o -E "[\"'](QUEUED|PENDING|READY|RUNNING|SUCCEEDED|FAILED|CANCELLED)[\"']" "$rev" -- "$main/service/jobs" | wc -l)"
echo "  of them in Java comparisons/sets         $(git grep -o -E "\"(QUEUED|PENDING|READY|RUNNING|SUCCEEDED|FAILED|CANCELLED)\"" "$rev" -- "$main/service/jobs" | wc -l)"
echo "\"publish\" literals                         $(grepc '"publish"' "$main")"
echo "lists of the spacings a job may name       $(grepc 'ALL_SPACINGS = List\.of\("|spacings = List\.of\(new TimestepSpacing|SPACINGS = List\.of\(new TimestepSpacing\.TimeUniform\(\),$' "$main/tuning")"
echo "method names by string replacement         $(grepc 'replace\("dpmsolver-2m"' "$main")"
echo "ems source / dtype by string compare       $(grepc 'equals\("(teacher|data|float32|float64)"\)' "$main/tuning/job")"
echo "stage outputs read by field name (dependencyPath|dependencyOutputs().get)  $(grepc 'dependencyPath\(|dependencyOutputs\(\)\.get\(' "$main/tuning/job")"
cli="$main/cli/FitCommand.java $main/cli/FitEmsCommand.java $main/cli/TeacherCommand.java"
echo "cli tuning adapters (fit, fit-ems, teacher) lines  $(for f in $cli; do git show "$rev:$f"; done | wc -l)"
echo "  their own orchestration/resume (TunedMethods.run|BaselineSweep.run|Teacher.run|withCheckpoints|done(rows|.summary.lock)  $(grepc 'TunedMethods\.run\(|BaselineSweep\.run\(|Teacher\.run\(|withCheckpoints\(|done\(rows|\.summary\.lock' "$cli")"
echo "method ids as string literals (tuning/job, tuning/fit, tuning/publish)  $(git grep -o -E '"(dc|dc-final|dode|dode-teacher|iia-ddim|iia-dpmsolver\+\+2m|iia-edm|biia-edm|dpmsolver-v3|baseline)"|"-teacher"' "$rev" -- "$main/tuning/job" "$main/tuning/fit" "$main/tuning/publish" | wc -l)"
echo "methods carried as strings in tuning (fields, parameters, maps, comparisons)  $(git grep -o -E 'String method[,)]|List<String> methods|String> coefficientMethods|Map<String, TunedMethods.Method>|equals\(DPM_SOLVER_V3\)|contains\(DPM_SOLVER_V3\)' "$rev" -- "$main/tuning" | wc -l)"
