package io.solvertune.numerics.solver.v3;

import io.solvertune.numerics.solver.History;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.Step;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsGrid;
import io.solvertune.numerics.coeff.EmsIntegrals;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Nd;
import io.solvertune.numerics.schedule.NoiseSchedule;
import java.util.Arrays;

/**
 * DPM-Solver-v3 multistep predictor-corrector, as {@code DPM_Solver_v3.sample} of the official
 * {@code dpm_solver_v3.py} (thu-ml/DPM-Solver-v3), on the noise prediction.
 *
 * <p><b>Grid.</b> The statistics' lambda grid is built on the model's schedule ({@link EmsGrid#lambdas}); the
 * sampling times are the config's spacing snapped to it ({@code index = round(K (lambda(t) - lambda_T) /
 * (lambda_0 - lambda_T))}, {@code t = inverse_lambda(lambda_T + (lambda_0 - lambda_T) index / K)}), or the spec's
 * explicit indexes mapped the same way. The loop walks the snapped times, so every model evaluation is at one.
 * With {@link DpmSolverV3.Positions#INTERPOLATED} the config's times are used as they are, each at its fractional
 * grid position {@code u = K (lambda(t) - lambda_T) / (lambda_0 - lambda_T)} (a position within
 * {@value #POSITION_TOLERANCE} of a grid index is that index), with the statistics interpolated
 * ({@link EmsIntegrals#at(double)}); explicit indexes are then integer positions.
 *
 * <p><b>Loop</b> (official step {@code n = 1..steps}, our step index {@code n - 1} from {@code s} to {@code t}):
 * evaluate {@code eps_s} at the incoming state; if {@code use_corrector and (s > 0.5 or not half)} and the corrector
 * order {@code p_{n-1} + c_pseudo > 1} ({@code p_{n-1}} = the previous predictor order, 0 at the first step), replace
 * the state at {@code s} by the corrector update from the previous point to {@code s}; then predict to {@code t}
 * with order {@code p_n = min(n, order)}, lowered to {@code min(p_n, steps + 1 - n)} with {@code lower_order_final}.
 * One NFE per step; nothing is evaluated at the final time.
 *
 * <p><b>History.</b> Each step remembers three arrays at {@code s}: {@code eps_s} (via {@link Step#modelAtStart}),
 * {@code f_s = (sigma_s eps_s - l_s x_s) / alpha_s} and the (corrected) state {@code x_s}. The official code
 * replaces the cached {@code eps} after a correction by {@code (N_old + l x_new)/sigma} with
 * {@code N = sigma eps - l x} fixed, which leaves {@code f = N / alpha} unchanged; so the history keeps {@code f}
 * from the evaluation and only the state changes, and the entries can stay immutable.
 *
 * <p>Coefficients are computed on the host in {@code double} ({@link DpmSolverV3Update}) as per-dimension vectors and
 * enter the tensor work as arrays of the run's data type, shaped like one sample.
 */
public final class DpmSolverV3Solver implements Solver {
    /** History entries per sampled point: x, f, eps (newest first). */
    private static final int ENTRIES = 3;

    private final DpmSolverV3 spec;
    private final EmpiricalModelStatistics ems;
    private EmsIntegrals integrals;
    /** Distance to a grid index under which an interpolated position is taken as that index. */
    static final double POSITION_TOLERANCE = 1e-9;

    private int[] indexes;
    private double[] positions;
    private double[] times;
    private long[] sampleShape;

    DpmSolverV3Solver(DpmSolverV3 spec) {
        this.spec = spec;
        this.ems = spec.degenerated() ? spec.ems().degenerated() : spec.ems();
    }

    @Override
    public PredictionType historyType() {
        return PredictionType.NOISE;
    }

    @Override
    public int historyCapacity() {
        return ENTRIES * spec.order();
    }

    /** Checks explicit grid indexes: at least two, strictly increasing, within {@code [0, k]}. */
    static void checkIndexes(int[] idx, int k) {
        if (idx.length < 2) {
            throw new IllegalArgumentException("dpmsolver-v3: explicit indexes need at least 2 entries, got "
                    + idx.length);
        }
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] > k) {
                throw new IllegalArgumentException("dpmsolver-v3: explicit index " + idx[i] + " (position " + i
                        + ") lies outside the statistics grid 0.." + k);
            }
            if (i > 0 && idx[i] <= idx[i - 1]) {
                throw new IllegalArgumentException("dpmsolver-v3: explicit indexes must increase strictly; position "
                        + i + " (" + idx[i] + ") does not");
            }
        }
    }

    @Override
    public double[] grid(NoiseSchedule schedule, SamplerConfig config, double tStart, double tEnd) {
        integrals = ems.integrals(schedule);
        double[] lambdas = integrals.lambdas();
        int k = integrals.steps();
        int[] idx;
        if (spec.positions() == DpmSolverV3.Positions.INTERPOLATED && spec.explicitIndexes() == null) {
            return interpolatedGrid(config.spacing().times(schedule, tStart, tEnd, config.steps()), schedule);
        }
        if (spec.explicitIndexes() != null) {
            idx = spec.explicitIndexes();
            if (idx.length != config.steps() + 1) {
                throw new IllegalArgumentException("dpmsolver-v3: " + idx.length + " explicit indexes make "
                        + (idx.length - 1) + " steps, but " + config.steps() + " steps were requested");
            }
        } else {
            double[] raw = config.spacing().times(schedule, tStart, tEnd, config.steps());
            idx = new int[raw.length];
            for (int i = 0; i < raw.length; i++) {
                idx[i] = EmsGrid.snapIndex(lambdas, schedule.lambda(raw[i]));
            }
            for (int i = 1; i < idx.length; i++) {
                if (idx[i] <= idx[i - 1]) {
                    throw new IllegalArgumentException("dpmsolver-v3: " + config.steps() + " steps of "
                            + config.spacing().id() + " spacing snap to repeated grid indexes " + Arrays.toString(idx)
                            + " on the statistics grid of K = " + k + " (use fewer steps or finer statistics)");
                }
            }
        }
        checkIndexes(idx, k);
        double[] t = new double[idx.length];
        for (int i = 0; i < idx.length; i++) {
            t[i] = schedule.inverseLambda(EmsGrid.indexLambda(lambdas, idx[i]));
            if (i > 0 && !(t[i] < t[i - 1])) {
                throw new IllegalArgumentException("dpmsolver-v3: snapped times do not decrease strictly at position "
                        + i + ": " + Arrays.toString(t));
            }
        }
        this.indexes = idx;
        this.positions = java.util.Arrays.stream(idx).asDoubleStream().toArray();
        this.times = t;
        return t.clone();
    }

    /** The interpolated grid: {@code raw} times at their fractional positions. */
    private double[] interpolatedGrid(double[] raw, NoiseSchedule schedule) {
        double[] u = new double[raw.length];
        int[] idx = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            u[i] = integrals.position(schedule.lambda(raw[i]), POSITION_TOLERANCE);
            idx[i] = (int) Math.rint(u[i]);
            if (i > 0 && !(raw[i] < raw[i - 1] && u[i] > u[i - 1])) {
                throw new IllegalArgumentException("dpmsolver-v3: times must decrease strictly with distinct grid "
                        + "positions; position " + i + " (t = " + raw[i] + ", " + u[i] + ") does not");
            }
        }
        this.indexes = idx;
        this.positions = u;
        this.times = raw.clone();
        return raw.clone();
    }

    /** The grid indexes of the last {@link #grid} call (the nearest ones for interpolated positions). */
    int[] indexes() {
        return indexes.clone();
    }

    /** The (fractional) grid positions of the last {@link #grid} call. */
    double[] positions() {
        return positions.clone();
    }

    /** Predictor order of official step {@code n} (1-based) of {@code steps}; 0 before the first step. */
    public static int predictorOrder(int order, int n, int steps, boolean lowerOrderFinal) {
        if (n < 1) {
            return 0;
        }
        int p = Math.min(n, order);
        return lowerOrderFinal ? Math.min(p, steps + 1 - n) : p;
    }

    @Override
    public NDArray step(Step step, NDArray x) {
        if (indexes == null) {
            throw new IllegalStateException("dpmsolver-v3: grid() must be called before step()");
        }
        int i = step.index();
        int n = step.number();
        int steps = step.count();
        if (steps != indexes.length - 1 || step.s() != times[i]) {
            throw new IllegalStateException("dpmsolver-v3: step " + i + " does not run on this solver's grid");
        }
        NoiseSchedule ns = step.schedule();
        if (sampleShape == null) {
            long[] xs = x.getShape().getShape();
            sampleShape = Arrays.copyOfRange(xs, 1, xs.length);
            ems.requireCompatible(sampleShape);
        }
        NDManager m = x.getManager();
        DataType dt = x.getDataType();
        History h = step.history();

        NDArray eps = step.modelAtStart(x);
        // previous points (k = 1 is the previous one): history after modelAtStart = [eps_s, x_1, f_1, eps_1, x_2, ...]
        int prevCount = Math.min(i, spec.order());
        NDArray[] prevX = new NDArray[prevCount + 1];
        NDArray[] prevF = new NDArray[prevCount + 1];
        for (int k = 1; k <= prevCount; k++) {
            prevX[k] = h.get(1 + ENTRIES * (k - 1)).value();
            prevF[k] = h.get(2 + ENTRIES * (k - 1)).value();
        }

        double s = times[i];
        double iS = positions[i];
        double alphaS = ns.alpha(s);
        double sigmaS = ns.sigma(s);
        double[] lOverAlpha = integrals.at(iS).l();
        for (int d = 0; d < lOverAlpha.length; d++) {
            lOverAlpha[d] /= alphaS;
        }
        NDArray f = eps.mul(sigmaS / alphaS);
        try (NDArray lx = x.mul(vector(m, lOverAlpha, dt))) {
            f.subi(lx);
        }

        // corrector: from the previous point to s, with the fresh f at s
        NDArray xs = null;
        int pPrev = predictorOrder(spec.order(), n - 1, steps, step.config().lowerOrderFinal());
        if (spec.useCorrector() && (s > 0.5 || !spec.half())) {
            int c = pPrev + (spec.cPseudo() ? 1 : 0);
            if (c > 1) {
                // points: [previous, current, previous-2, ...]
                double[] pi = new double[c];
                double[] pt = new double[c];
                NDArray[] pf = new NDArray[c];
                pi[0] = positions[i - 1];
                pt[0] = times[i - 1];
                pf[0] = prevF[1];
                pi[1] = iS;
                pt[1] = s;
                pf[1] = f;
                for (int q = 2; q < c; q++) {
                    pi[q] = positions[i - q];
                    pt[q] = times[i - q];
                    pf[q] = prevF[q];
                }
                DpmSolverV3Update.Coefficients co = DpmSolverV3Update.compute(integrals, ns, pi, pt, iS, s,
                        spec.cPseudo());
                xs = apply(co, prevX[1], pf, m, dt);
            }
        }
        if (xs == null) {
            xs = x.duplicate();
        }
        step.remember(s, f);
        step.remember(s, xs);

        // predictor: from s to t
        int p = predictorOrder(spec.order(), n, steps, step.config().lowerOrderFinal());
        double[] pi = new double[p];
        double[] pt = new double[p];
        NDArray[] pf = new NDArray[p];
        pi[0] = iS;
        pt[0] = s;
        pf[0] = f;
        for (int q = 1; q < p; q++) {
            pi[q] = positions[i - q];
            pt[q] = times[i - q];
            pf[q] = prevF[q];
        }
        DpmSolverV3Update.Coefficients co = DpmSolverV3Update.compute(integrals, ns, pi, pt, positions[i + 1],
                times[i + 1], spec.pPseudo());
        return apply(co, xs, pf, m, dt);
    }

    /** {@code a . base + sum_m c_m . f_m + d} with the coefficient vectors as arrays shaped like one sample. */
    private NDArray apply(DpmSolverV3Update.Coefficients co, NDArray base, NDArray[] fs, NDManager m, DataType dt) {
        NDArray r;
        try (NDArray a = vector(m, co.a(), dt)) {
            r = base.mul(a);
        }
        for (int q = 0; q < fs.length; q++) {
            try (NDArray c = vector(m, co.f()[q], dt); NDArray t = fs[q].mul(c)) {
                r.addi(t);
            }
        }
        try (NDArray d = vector(m, co.constant(), dt)) {
            r.addi(d);
        }
        return r;
    }

    private NDArray vector(NDManager m, double[] v, DataType dt) {
        return Nd.create(m, v, new Shape(sampleShape), dt);
    }
}
