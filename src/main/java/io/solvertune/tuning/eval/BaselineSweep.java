package io.solvertune.tuning.eval;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.tuning.Progress;
import io.solvertune.numerics.solver.unipc.UniPc;
import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The number every tuned method has to beat: per NFE, the best untuned configuration (over solver, order, variant
 * and spacing) chosen on the training seeds, and its error on the held-out seeds.
 */
public final class BaselineSweep {
    /**
     * The grids untuned baselines are swept on, and so the spacings a tuning job may name (its default: all); Karras
     * rho = 7 as the official EDM code.
     */
    public static final List<TimestepSpacing> SPACINGS = SpacingName.ALL.stream().map(SpacingName::spacing).toList();


    /** The chosen baseline at one NFE. */
    public record Choice(int nfe, Candidate best, Evaluation.Result train, Evaluation.Result heldOut,
                         int candidatesTried) {
    }

    private BaselineSweep() {
    }

    /** Untuned solvers in their official configurations x the four standard spacings. */
    public static List<Candidate> untunedCandidates() {
        PredictionType d = PredictionType.DATA;
        PredictionType n = PredictionType.NOISE;
        List<SolverSpec> solvers = List.of(
                new Ddim(),
                new DpmSolver(d, DpmSolver.Method.MULTISTEP, 2, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(d, DpmSolver.Method.MULTISTEP, 3, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(d, DpmSolver.Method.SINGLESTEP, 2, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(d, DpmSolver.Method.SINGLESTEP, 3, DpmSolver.SolverType.DPMSOLVER),
                new DpmSolver(n, DpmSolver.Method.SINGLESTEP, 3, DpmSolver.SolverType.DPMSOLVER),
                new UniPc(d, UniPc.Variant.BH1, 2),
                new UniPc(d, UniPc.Variant.BH1, 3),
                new UniPc(d, UniPc.Variant.BH2, 2),
                new UniPc(d, UniPc.Variant.BH2, 3));
        List<Candidate> out = new ArrayList<>();
        for (SolverSpec s : solvers) {
            for (TimestepSpacing sp : SPACINGS) {
                out.add(Candidate.of(s, sp));
            }
        }
        return out;
    }

    /** The choice at one NFE with every candidate's training result, best first. */
    public record Ranked(Choice choice, List<Candidate> candidates, List<Evaluation.Result> train) {
    }

    /** Chooses per NFE on {@code train}, then scores the choice on {@code heldOut}. */
    public static List<Choice> run(Denoiser model, Guidance guidance, Evaluation.Targets train,
                                   Evaluation.Targets heldOut, List<Candidate> candidates, int[] nfes, int batch,
                                   DataType dtype, Progress progress) {
        List<Choice> out = new ArrayList<>();
        for (Ranked r : runRanked(model, guidance, train, heldOut, candidates, nfes, batch, dtype, progress)) {
            out.add(r.choice());
        }
        return out;
    }

    /** {@link #run} keeping every candidate's training score, ranked best first (for starts of tuned methods). */
    public static List<Ranked> runRanked(Denoiser model, Guidance guidance, Evaluation.Targets train,
                                         Evaluation.Targets heldOut, List<Candidate> candidates, int[] nfes, int batch,
                                         DataType dtype, Progress progress) {
        List<Ranked> out = new ArrayList<>();
        for (int nfe : nfes) {
            List<Evaluation.Result> scores = new ArrayList<>();
            List<Candidate> tried = new ArrayList<>();
            for (Candidate c : candidates) {
                if (c.stepsFor(nfe) < 1) {
                    continue;
                }
                scores.add(Evaluation.evaluate(model, guidance, train, c, nfe, batch, dtype, 0).result());
                tried.add(c);
                progress.report("baseline-sweep", tried.size(), candidates.size(), "NFE " + nfe + ": " + c.name());
            }
            int best = 0;
            for (int i = 1; i < scores.size(); i++) {
                if (scores.get(i).meanMse() < scores.get(best).meanMse()) {
                    best = i;
                }
            }
            Candidate winner = tried.get(best);
            Evaluation.Result held = Evaluation.evaluate(model, guidance, heldOut, winner, nfe, batch, dtype, 0).result();
            Integer[] order = new Integer[tried.size()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, Comparator.comparingDouble(i -> scores.get(i).meanMse()));
            List<Candidate> rc = new ArrayList<>();
            List<Evaluation.Result> rr = new ArrayList<>();
            for (int i : order) {
                rc.add(tried.get(i));
                rr.add(scores.get(i));
            }
            out.add(new Ranked(new Choice(nfe, winner, scores.get(best), held, tried.size()), rc, rr));
        }
        return out;
    }

    /** The candidates ranked by training error at one NFE (for reports). */
    public static List<Evaluation.Result> ranked(List<Evaluation.Result> results) {
        List<Evaluation.Result> r = new ArrayList<>(results);
        r.sort(Comparator.comparingDouble(Evaluation.Result::meanMse));
        return r;
    }
}
