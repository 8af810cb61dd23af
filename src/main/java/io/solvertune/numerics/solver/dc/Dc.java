package io.solvertune.numerics.solver.dc;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.unipc.UniPc;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.PredictionType;

/**
 * DC-Solver (Zhao et al., ECCV 2024; wl-zhao/DC-Solver, LDM {@code DCSolver}): before step {@code i} the newest
 * buffered model output is replaced by the Lagrange interpolation through the three newest outputs at
 * {@code t' = t_prev + ratio_i (t_newest - t_prev)} (continuous time); see {@link DcSolver}.
 *
 * @param base   UniPC (bh1/bh2, orders 1-3, data or noise prediction) or DPM-Solver++ multistep (data
 *               prediction, orders 1-3; our extension, no official code)
 * @param ratios one ratio per step ({@code ratios.length} must equal the run's steps); 1 = no compensation; the
 *               first two must be 1 (fewer than three buffered outputs there)
 */
public record Dc(SolverSpec base, double[] ratios) implements SolverSpec {
    public Dc {
        if (base == null) {
            throw new IllegalArgumentException("dc: base solver is required");
        }
        boolean ok = base instanceof UniPc
                || base instanceof DpmSolver d && d.method() == DpmSolver.Method.MULTISTEP
                && d.prediction() == PredictionType.DATA;
        if (!ok) {
            throw new IllegalArgumentException("dc: base must be unipc or dpmsolver++ multistep, got "
                    + base.label());
        }
        if (ratios == null || ratios.length < 1) {
            throw new IllegalArgumentException("dc: ratios are required (one per step)");
        }
        ratios = ratios.clone();
        for (int i = 0; i < ratios.length; i++) {
            if (!Double.isFinite(ratios[i])) {
                throw new IllegalArgumentException("dc: ratios[" + i + "] is not finite");
            }
            if (i < DcSolver.FREE_FROM && ratios[i] != 1.0) {
                throw new IllegalArgumentException("dc: ratios[" + i + "] must be 1 (step " + (i + 1)
                        + " has fewer than " + (DcSolver.DC_ORDER + 1) + " buffered model outputs), got "
                        + ratios[i]);
            }
        }
    }

    /** Neutral ratios (all 1): reproduces the base solver. */
    public static Dc neutral(SolverSpec base, int steps) {
        double[] r = new double[steps];
        java.util.Arrays.fill(r, 1.0);
        return new Dc(base, r);
    }

    @Override
    public double[] ratios() {
        return ratios.clone();
    }

    @Override
    public Solver create() {
        return new DcSolver(this);
    }

    @Override
    public String label() {
        return "dc " + base.label();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dc d && base.equals(d.base) && java.util.Arrays.equals(ratios, d.ratios);
    }

    @Override
    public int hashCode() {
        return 31 * base.hashCode() + java.util.Arrays.hashCode(ratios);
    }

    @Override
    public String toString() {
        return "Dc[base=" + base + ", ratios=" + java.util.Arrays.toString(ratios) + "]";
    }
}
