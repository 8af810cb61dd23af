package io.solvertune.numerics.solver.consistency;

import io.solvertune.numerics.nd.Combo;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.solver.consistency.Consistency.Form;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.dpm.DpmSolverMultistep;

/**
 * The ConsistencySolver coefficients that make it an existing untuned multistep solver: DPM-Solver++ kM (data
 * prediction) in the data form, DPM-Solver kM (noise prediction) in the noise form, {@code k} = 2 or 3, the official
 * 'dpmsolver' update type, the official order plan (warm-up with orders 1..k-1, lower-order final steps when asked and
 * fewer than 10 steps; {@link DpmSolverMultistep#stepOrder}).
 *
 * <p>Why it is a member of the family: every multistep DPM-Solver update is {@code x_t = cx x + w_0 m_0 + .. +
 * w_{k-1} m_{k-1}} ({@link DpmSolverMultistep#update} as a combination of {@code [x, m_0, m_1, m_2]}) with the same
 * {@code cx} as the first-order step and {@code sum_j w_j} equal to the first-order step's weight {@code w_1st} on
 * {@code m_0} (the finite differences sum to zero). So {@code c_j = w_j / w_1st} are combination weights summing to
 * one, and the form's first-order step ({@link ConsistencyUpdate#step}: DDIM in data form, DPM-Solver-1 in noise form)
 * with {@code m_eff = sum_j c_j m_j} is the multistep update, up to round-off (the data form computes its weight as
 * {@code alpha_t - alpha_s sigma_t/sigma_s}, DPM-Solver++ as {@code -alpha_t expm1(-h)}). The weights are computed in
 * double from the grid's lambdas; they depend on the previous step sizes through {@code r = h_prev / h}.
 */
public final class MultistepPrior {

    /** Orders of the multistep solvers a prior can be. */
    public static final int MIN_ORDER = 2;
    public static final int MAX_ORDER = 3;

    private MultistepPrior() {
    }

    /** The untuned solver the prior's coefficients reproduce: DPM-Solver++ kM (data) or DPM-Solver kM (noise). */
    public static DpmSolver solver(Form form, int priorOrder) {
        check(form, priorOrder);
        return new DpmSolver(form.prediction(), DpmSolver.Method.MULTISTEP, priorOrder, DpmSolver.SolverType.DPMSOLVER);
    }

    /**
     * The free coefficients {@code a_0 ..} of every step of a run over {@code grid} ({@code steps + 1} times, strictly
     * decreasing) at ConsistencySolver order {@code order}: row {@code i} has {@link Consistency#columns} entries;
     * combined outputs beyond the prior's order get weight 0.
     *
     * @param lowerOrderFinal the official lower-order final steps (the project's default is on)
     */
    public static double[][] coefficients(Form form, int order, int priorOrder, NoiseSchedule ns, double[] grid,
                                          boolean lowerOrderFinal) {
        check(form, priorOrder);
        if (order < priorOrder || order > Consistency.MAX_ORDER) {
            throw new IllegalArgumentException("priorOrder: the prior combines " + priorOrder + " outputs, more than "
                    + "the solver's order " + order);
        }
        if (grid == null || grid.length < 2) {
            throw new IllegalArgumentException("prior: a grid of at least 2 times is required");
        }
        int steps = grid.length - 1;
        DpmSolverMultistep dpm = new DpmSolverMultistep(solver(form, priorOrder));
        double[][] a = new double[steps][];
        for (int i = 0; i < steps; i++) {
            a[i] = new double[Consistency.columns(order, i)];
            int k = DpmSolverMultistep.stepOrder(priorOrder, i + 1, steps, lowerOrderFinal);
            if (k < 2) {
                continue; // first order: the neutral coefficients
            }
            double[] times = new double[k];
            for (int j = 0; j < k; j++) {
                times[j] = grid[i - j];
            }
            double first = dpm.update(ns, times, grid[i + 1], 1).coefficient(1);
            Combo u = dpm.update(ns, times, grid[i + 1], k);
            // c_0 = 1 + a_0, c_j = a_j (0 < j < cols), the last weight is 1 - sum (zero beyond the prior's order)
            a[i][0] = u.coefficient(1) / first - 1.0;
            for (int j = 1; j < a[i].length; j++) {
                a[i][j] = j < k ? u.coefficient(1 + j) / first : 0.0;
            }
        }
        return a;
    }

    private static void check(Form form, int priorOrder) {
        if (form != Form.DATA && form != Form.NOISE) {
            throw new IllegalArgumentException("prior: the multistep prior needs the data or noise form (DPM-Solver++ "
                    + "or DPM-Solver multistep), got " + (form == null ? "none" : form.id()));
        }
        if (priorOrder < MIN_ORDER || priorOrder > MAX_ORDER) {
            throw new IllegalArgumentException("priorOrder: must be 2 or 3, got " + priorOrder);
        }
    }
}
