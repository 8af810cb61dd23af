package io.solvertune.tuning.job;

import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.tuning.eval.BaselineSweep;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Evaluation results as stage files keep them: with their per-seed errors, for paired verdicts downstream. */
final class Scores {
    private Scores() {
    }

    /** An {@link Evaluation.Result} with its per-seed errors (and without its wall time, so files are reproducible). */
    record Score(String candidate, int nfe, int seeds, double meanMse, double stdMse, double stdErr, double[] perSeed) {
        static Score of(Evaluation.Result r) {
            return new Score(r.candidate(), r.nfe(), r.seeds(), r.meanMse(), r.stdMse(), r.stdErr(), r.perSeed());
        }

        Evaluation.Result result() {
            return new Evaluation.Result(candidate, nfe, seeds, meanMse, stdMse, stdErr, 0, perSeed);
        }

        /** Median of the per-seed errors (null without them). */
        @com.fasterxml.jackson.annotation.JsonIgnore
        Double median() {
            return finite(Evaluation.quantile(perSeed, 0.5));
        }

        /** 99th percentile of the per-seed errors (numpy's linear interpolation; null without them). */
        @com.fasterxml.jackson.annotation.JsonIgnore
        Double p99() {
            return finite(Evaluation.quantile(perSeed, 0.99));
        }

        private static Double finite(double v) {
            return Double.isFinite(v) ? v : null;
        }
    }

    /**
     * The best untuned baseline at one NFE.
     *
     * @param times  the explicit sampling grid at this NFE (steps + 1 times)
     * @param ranked every untuned candidate's name, best selection error first (null in files written before it)
     */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    record BaselinePick(int nfe, Candidate candidate, Score select, Score heldOut, int candidatesTried, double tStart,
                        double tEnd, double[] times, List<String> ranked) {
        BaselinePick(int nfe, Candidate candidate, Score select, Score heldOut, int candidatesTried, double tStart,
                     double tEnd, double[] times) {
            this(nfe, candidate, select, heldOut, candidatesTried, tStart, tEnd, times, null);
        }

        BaselineSweep.Choice choice() {
            return new BaselineSweep.Choice(nfe, candidate, select.result(), heldOut.result(), candidatesTried);
        }
    }

    /**
     * The baseline stage's file: the picks, and what provenance needs of the teacher sets they were scored on.
     *
     * @param guidance       the conditioning of every run of this guidance scale
     * @param trainTeacher   teacher settings of the training set
     * @param heldOutTeacher teacher settings of the held-out set
     * @param trainSeeds     first training seed and count
     * @param heldOutSeeds   first held-out seed and count
     * @param selectRows     training rows the choices were made on ({@code [from, to)})
     */
    record Baselines(List<BaselinePick> picks, io.solvertune.numerics.model.Guidance guidance,
                     io.solvertune.tuning.teacher.TeacherSettings trainTeacher,
                     io.solvertune.tuning.teacher.TeacherSettings heldOutTeacher, long[] trainSeeds, long[] heldOutSeeds,
                     int[] selectRows) {
        List<BaselineSweep.Choice> choices() {
            return picks.stream().map(BaselinePick::choice).toList();
        }
    }

    /** The file of a learned-timesteps stage's per-seed scores ({@link SetScores}, one per NFE). */
    static final String SCORES = "scores.json";

    /**
     * One NFE's chosen set on learned timesteps with its per-seed scores.
     *
     * @param config    the set's name
     * @param select    its error on the selection rows
     * @param heldOut   its held-out error
     * @param base      its own base's held-out error
     * @param baseline  the best untuned baseline's held-out error
     * @param selection every candidate's selection error in the order tried (per variant: learned grid, then
     *                  untuned grid), or null where the stage does not record it
     */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    record SetScores(int nfe, String config, Score select, Score heldOut, Score base, Score baseline,
                     List<Score> selection) {
    }

    static List<SetScores> readScores(Path file) throws IOException {
        return Json.MAPPER.readValue(file.toFile(),
                new com.fasterxml.jackson.core.type.TypeReference<List<SetScores>>() { });
    }

    static Baselines readBaselines(Path file) throws IOException {
        return Json.MAPPER.readValue(file.toFile(), Baselines.class);
    }

    static void write(Path file, Object value) throws IOException {
        StageCheckpoint.writeAtomically(file, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(value));
    }

    /** The sampling grid a candidate walks at {@code nfe}. */
    static double[] times(Denoiser model, Candidate c, int nfe, double tStart, double tEnd) {
        SamplerConfig cfg = c.at(nfe, tStart, tEnd);
        return cfg.solver().create().grid(model.schedule(), cfg, cfg.tStart(), cfg.tEnd());
    }

    /** The held-out rows an evaluation stage validates on: the eval's held-out rows, or the whole set. */
    static Evaluation.Targets heldOut(TrajectorySet held, StageParams.Eval e) throws IOException {
        if (e.heldOutFrom() == null) {
            return targets(held, 0, held.size());
        }
        if (e.heldOutTo() > held.size()) {
            throw new IllegalArgumentException("held-out rows " + e.heldOutFrom() + ".." + (e.heldOutTo() - 1)
                    + " outside the held-out set's " + held.size() + " rows");
        }
        return targets(held, e.heldOutFrom(), e.heldOutTo());
    }

    /** Initial and final states of training rows {@code [from, to)} or of the whole set. */
    static Evaluation.Targets targets(TrajectorySet set, int from, int to) throws IOException {
        if (from < 0 || to > set.size() || from >= to) {
            throw new IllegalArgumentException("rows " + from + ".." + (to - 1) + " outside the set's " + set.size());
        }
        return Evaluation.Targets.load(set, from, to);
    }
}
