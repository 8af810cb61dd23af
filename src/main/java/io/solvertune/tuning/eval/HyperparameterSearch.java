package io.solvertune.tuning.eval;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.tuning.Progress;
import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The training-free recipe of "Hyperparameters are all you need" (arXiv 2510.02390,
 * TheLovesOfLadyPurple/Hyperparameters-are-all-you-need): Karras-style spacing with its own rho on the DDPM-timestep
 * axis ({@link TimestepSpacing.PowerTime}), stopping at a non-zero noise level, DPM-Solver++ first order or 2M. Here
 * rho, the stop level and the optional final denoising call are searched per model and NFE on the training seeds —
 * the cheapest tuned method — and the winner is validated on held-out seeds like every other method.
 */
public final class HyperparameterSearch {

    /**
     * The search space.
     *
     * @param rhos        exponents of the time-power spacing
     * @param stopFactors stop times as multiples of the teacher's end time (1 = no early stop)
     * @param denoise     whether to try ending with one x0 call (counts against the NFE)
     * @param solvers     the base solvers (the paper: DPM-Solver++ 1 and 2M)
     */
    public record Space(double[] rhos, double[] stopFactors, boolean[] denoise, List<SolverSpec> solvers) {
    }

    /** The best setting at one NFE. */
    public record Fit(int nfe, Candidate best, Evaluation.Result train, Evaluation.Result heldOut, int evaluated,
                      double seconds) {
    }

    private HyperparameterSearch() {
    }

    /** rho 1.0..3.0 step 0.2 (the paper's 1.2 included), stops at 1/2/5/10x t_end, with and without denoising. */
    public static Space defaultSpace() {
        double[] rhos = new double[11];
        for (int i = 0; i < rhos.length; i++) {
            rhos[i] = Math.round((1.0 + 0.2 * i) * 10) / 10.0;
        }
        return new Space(rhos, new double[] {1, 2, 5, 10}, new boolean[] {false, true},
                List.of(new DpmSolver(PredictionType.DATA, DpmSolver.Method.MULTISTEP, 1, DpmSolver.SolverType.DPMSOLVER),
                        DpmSolver.plusPlusMultistep(2)));
    }

    /** All candidates of the space. */
    public static List<Candidate> candidates(Space space, double tEnd) {
        List<Candidate> out = new ArrayList<>();
        for (SolverSpec s : space.solvers()) {
            for (double rho : space.rhos()) {
                for (double f : space.stopFactors()) {
                    for (boolean dn : space.denoise()) {
                        Double stop = f == 1.0 ? null : f * tEnd;
                        out.add(new Candidate(null, s, new TimestepSpacing.PowerTime(rho), true, dn, null, stop));
                    }
                }
            }
        }
        return out;
    }

    /** Searches on {@code train} per NFE, validates the winner on {@code heldOut}. */
    public static List<Fit> run(Denoiser model, Guidance guidance, Evaluation.Targets train, Evaluation.Targets heldOut,
                                Space space, int[] nfes, int batch, DataType dtype, Progress progress) {
        List<Fit> out = new ArrayList<>();
        List<Candidate> all = candidates(space, train.tEnd());
        for (int nfe : nfes) {
            long t0 = System.nanoTime();
            Candidate best = null;
            Evaluation.Result bestR = null;
            int evaluated = 0;
            for (Candidate c : all) {
                if (c.stepsFor(nfe) < 1) {
                    continue;
                }
                Evaluation.Result r = Evaluation.evaluate(model, guidance, train, c, nfe, batch, dtype, 0).result();
                evaluated++;
                if (bestR == null || r.meanMse() < bestR.meanMse()) {
                    bestR = r;
                    best = c;
                }
                progress.report("hyperparameter-search", evaluated, all.size(), "NFE " + nfe + ": " + c.name());
            }
            if (best == null) {
                throw new IllegalArgumentException("hyperparameter search: no candidate can spend exactly " + nfe + " NFE");
            }
            Evaluation.Result held = Evaluation.evaluate(model, guidance, heldOut, best, nfe, batch, dtype, 0).result();
            out.add(new Fit(nfe, best, bestR, held, evaluated, (System.nanoTime() - t0) / 1e9));
        }
        return out;
    }
}
