package io.solvertune.numerics.solver.catalog;

import io.solvertune.numerics.solver.dc.Dc;
import io.solvertune.numerics.solver.dode.Dode;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.dpm.DpmSolverMultistep;
import io.solvertune.numerics.solver.dpm.DpmSolverSinglestep;
import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.numerics.solver.v3.DpmSolverV3Solver;
import io.solvertune.numerics.solver.edm.EdmHeun;
import io.solvertune.numerics.solver.iia.Iia;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.unipc.UniPc;
import io.solvertune.numerics.solver.unipc.UniPcSolver;
import io.solvertune.numerics.schedule.NoiseSchedule;
import java.util.Arrays;

/**
 * Where a sampling run evaluates the model and with which order each step runs, computed without running it: the
 * outer grid the {@link Sampler} walks, the order of every outer step as the solver chooses it (warm-up,
 * {@code lower_order_final}, the singlestep "fast" plan), the inner points of singlestep steps and the times of
 * every model call in call order (singlestep inner points, Heun's second call at the step's end, the extra call of
 * {@code denoise_to_zero}). The numbers are computed by the same code paths as the run (the solver's own
 * {@code grid}, order rules and inner-point formulas), so an export that states them states exactly the validated run.
 *
 * @param grid        the outer times, {@code grid.length - 1} steps
 * @param orders      order of each outer step (Heun: 2; DPM-Solver-v3: the predictor order)
 * @param inner       per outer step, the inner evaluation times of a singlestep solver ({@code []} otherwise)
 * @param innerRatios per outer step, {@code [r1, r2]} in half log-SNR of a singlestep solver ({@code null} otherwise)
 * @param evaluations the time of every model call, in call order
 */
public record EvaluationPlan(double[] grid, int[] orders, double[][] inner, double[][] innerRatios,
                             double[] evaluations) {

    /** The plan of {@code config} on {@code schedule} (baseline solvers and DPM-Solver-v3; a wrapper's base plan). */
    public static EvaluationPlan of(SamplerConfig config, NoiseSchedule schedule) {
        double tStart = config.tStart() != null ? config.tStart() : schedule.defaultTStart();
        double tEnd = config.tEnd() != null ? config.tEnd() : schedule.defaultTEnd();
        SolverSpec spec = config.solver();
        Solver solver = spec.create();
        double[] grid = solver.grid(schedule, config, tStart, tEnd);
        int steps = grid.length - 1;
        int[] orders = new int[steps];
        double[][] inner = new double[steps][];
        double[][] ratios = new double[steps][];
        double[] evals = new double[0];
        for (int i = 0; i < steps; i++) {
            int n = i + 1;
            orders[i] = order(spec, solver, i, n, steps, config.lowerOrderFinal());
            inner[i] = new double[0];
            if (solver instanceof DpmSolverSinglestep single) {
                inner[i] = single.innerTimes(schedule, i, grid[i], grid[i + 1]);
                ratios[i] = single.innerRatios(i);
            }
            evals = append(evals, grid[i]);
            for (double u : inner[i]) {
                evals = append(evals, u);
            }
            if (spec instanceof EdmHeun) {
                evals = append(evals, grid[i + 1]);
            }
        }
        if (config.denoiseToZero()) {
            evals = append(evals, tEnd);
        }
        return new EvaluationPlan(grid, orders, inner, solver instanceof DpmSolverSinglestep ? ratios : null, evals);
    }

    private static int order(SolverSpec spec, Solver solver, int i, int n, int steps, boolean lowerOrderFinal) {
        if (spec instanceof DpmSolver d && d.method() == DpmSolver.Method.SINGLESTEP) {
            return ((DpmSolverSinglestep) solver).orderOf(i);
        }
        if (spec instanceof DpmSolverV3 v) {
            return DpmSolverV3Solver.predictorOrder(v.order(), n, steps, lowerOrderFinal);
        }
        if (spec instanceof Dc dc) {
            return order(dc.base(), solver, i, n, steps, lowerOrderFinal);
        }
        if (spec instanceof Dode dode) {
            return order(dode.base(), solver, i, n, steps, lowerOrderFinal);
        }
        if (spec instanceof Iia iia) {
            return order(iia.form().base(), solver, i, n, steps, lowerOrderFinal);
        }
        if (spec instanceof DpmSolver d) {
            return DpmSolverMultistep.stepOrder(d.order(), n, steps, lowerOrderFinal);
        }
        if (spec instanceof UniPc u) {
            return UniPcSolver.stepOrder(u.order(), n, steps, lowerOrderFinal);
        }
        return spec instanceof EdmHeun ? 2 : 1;
    }

    private static double[] append(double[] a, double v) {
        double[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = v;
        return out;
    }

    /** Model evaluations of the run. */
    public int nfe() {
        return evaluations.length;
    }

    /** Outer steps. */
    public int steps() {
        return grid.length - 1;
    }

    @Override
    public double[] grid() {
        return grid.clone();
    }

    @Override
    public int[] orders() {
        return orders.clone();
    }

    @Override
    public double[] evaluations() {
        return evaluations.clone();
    }
}
