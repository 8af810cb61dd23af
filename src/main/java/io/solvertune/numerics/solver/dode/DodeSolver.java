package io.solvertune.numerics.solver.dode;

import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.dpm.DpmSolverMultistep;
import io.solvertune.numerics.solver.History;
import io.solvertune.numerics.solver.SampleResult;
import io.solvertune.numerics.solver.Sampler;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.solver.Step;
import io.solvertune.numerics.solver.StepListener;
import io.solvertune.numerics.solver.unipc.UniPc;
import io.solvertune.numerics.solver.unipc.UniPcSolver;
import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.ModelFunction;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Combo;
import io.solvertune.numerics.nd.Lin;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * D-ODE (Kim, Tang, Yu, CVPR 2024; kim-sanghwan/D-ODE-Solvers): a base solver whose step uses, instead of the model
 * output {@code o_i} at its start time, the extrapolation {@code ô_i = o_i + lambda_i (o_i - o_{i-1})}, one
 * {@code lambda} per step. Supported bases: {@link Ddim} (D-DDIM), multistep {@link DpmSolver}
 * (D-DPM-Solver(++) 1M-3M) and {@link UniPc} (D-UniPC, bh1/bh2, orders 1-3).
 *
 * <p>As in the official code the correction is added to the base update: every base update is linear in the model
 * outputs, so substituting {@code ô_i} for {@code o_i} gives {@code x_{i+1} = x_base + lambda_i Delta_i},
 * {@code Delta_i = c_i (o_i - o_{i-1})}, with {@code c_i} the total coefficient of {@code o_i} in the combination that
 * produces {@code x_{i+1}} (official singlestep DPM-Solver: {@code new_x_t = x_t - lambda (sigma_t phi_1)(model_s -
 * model_s_prev)}). The state is affine in {@code lambda_i}, which is what the closed-form fit needs. Conventions
 * taken from the official code:
 * <ul>
 *   <li>the history keeps the raw outputs {@code o} (the official loops pass {@code model_s}, not the corrected
 *       output, on as {@code model_s_prev}); {@code ô} only enters the step's own update;</li>
 *   <li>the first step has no previous output: noise-prediction bases use {@code o_{-1} := x} (the state;
 *       {@code d_sampler.py}, {@code denoising.py}: {@code e_prev = et - xt}), data-prediction bases apply no
 *       correction (EDM {@code distilled_sampler.py}: {@code if len(denoised_list) > 0}), so {@code lambda_0} must be
 *       0 there;</li>
 *   <li>the official D-DDIM adds {@code lambda (o_i - o_{i-1})} to the state directly, i.e. its lambda absorbs the
 *       step's coefficient {@code c_i}; ours is the scale-free {@code lambda} of {@code ô} (same family of
 *       samplers, {@code lambda_official = c_i lambda}).</li>
 * </ul>
 * D-UniPC (not in the official repository): {@code o_i} is the model output at the step's start (the previous
 * step's corrector evaluation); {@code ô_i} replaces it in the combination that produces {@code x_{i+1}} (the corrector,
 * or the predictor at the final step), while the point where the model is evaluated for the corrector is the base
 * predictor's (otherwise the state would not be affine in {@code lambda_i}).
 *
 * <p>{@code lambda = 0} returns the base solver's state itself (bit for bit). Fitters choose lambda inside a real
 * run with {@link #sample(SamplerConfig, ModelFunction, NDArray, LambdaChooser, StepListener)}.
 */
public final class DodeSolver implements Solver {

    /**
     * Chooses {@code lambda_i} inside a run, after the base update: {@code x_{i+1} = xBase + lambda delta}. Both
     * arrays belong to the step and are valid only during the call; {@code delta} is {@code null} at a step without
     * a previous output (the first step of a data-prediction base), where the returned value is ignored.
     */
    @FunctionalInterface
    public interface LambdaChooser {
        double lambda(int index, NDArray xBase, NDArray delta);
    }

    private final SolverSpec base;
    private final Solver solver;
    private final double[] lambdas;
    private final LambdaChooser chooser;
    private final boolean data;

    DodeSolver(SolverSpec base, double[] lambdas, LambdaChooser chooser) {
        checkBase(base);
        this.base = base;
        this.solver = base.create();
        this.lambdas = lambdas;
        this.chooser = chooser;
        this.data = solver.historyType() == PredictionType.DATA;
    }

    /**
     * Samples with {@code config.solver()} as the D-ODE base and lambdas chosen by {@code chooser} during the run
     * (for fitters). Same loop, history and scopes as {@link Sampler#sample}.
     */
    public static SampleResult sample(SamplerConfig config, ModelFunction model, NDArray xT, LambdaChooser chooser,
                                      StepListener listener) {
        if (chooser == null) {
            throw new IllegalArgumentException("dode: chooser is required");
        }
        return Sampler.run(config, new DodeSolver(config.solver(), null, chooser), model, xT, listener);
    }

    /** Rejects bases D-ODE does not support, naming the field. */
    static void checkBase(SolverSpec base) {
        if (base == null) {
            throw new IllegalArgumentException("dode: base solver is required");
        }
        boolean ok = base instanceof Ddim || base instanceof UniPc
                || base instanceof DpmSolver d && d.method() == DpmSolver.Method.MULTISTEP;
        if (!ok) {
            throw new IllegalArgumentException("dode: base must be ddim, dpmsolver multistep or unipc, got "
                    + base.label());
        }
    }

    /** Whether the base integrates data predictions (then the first step is not corrected). */
    static boolean dataPrediction(SolverSpec base) {
        checkBase(base);
        if (base instanceof DpmSolver d) {
            return d.prediction() == PredictionType.DATA;
        }
        if (base instanceof UniPc u) {
            return u.prediction() == PredictionType.DATA;
        }
        return true; // ddim integrates x0
    }

    @Override
    public PredictionType historyType() {
        return solver.historyType();
    }

    /** At least 2: the previous output must still be there when a one-output base evaluates the new one. */
    @Override
    public int historyCapacity() {
        return Math.max(2, solver.historyCapacity());
    }

    @Override
    public double[] grid(NoiseSchedule schedule, SamplerConfig config, double tStart, double tEnd) {
        if (lambdas != null && lambdas.length != config.steps()) {
            throw new IllegalArgumentException("dode: lambdas has " + lambdas.length + " entries but the run has "
                    + config.steps() + " steps (one lambda per step)");
        }
        return solver.grid(schedule, config, tStart, tEnd);
    }

    @Override
    public NDArray step(Step step, NDArray x) {
        int i = step.index();
        if (lambdas != null && lambdas[i] == 0.0) {
            return solver.step(step, x);
        }
        NDArray o = step.modelAtStart(x);
        NDArray prev = previous(step, x);
        double c = prev == null ? 0.0 : startCoefficient(step);
        NDArray xBase = solver.step(step, x);
        if (chooser == null) {
            if (prev == null) {
                return xBase;
            }
            try (NDArray diff = o.sub(prev)) {
                NDArray out = Lin.of(1.0, xBase, lambdas[i] * c, diff);
                xBase.close();
                return out;
            }
        }
        if (prev == null) {
            chooser.lambda(i, xBase, null);
            return xBase;
        }
        NDArray delta = o.sub(prev);
        delta.muli(c);
        double lambda = chooser.lambda(i, xBase, delta);
        if (lambda == 0.0) {
            delta.close();
            return xBase;
        }
        NDArray out = Lin.of(1.0, xBase, lambda, delta);
        xBase.close();
        delta.close();
        return out;
    }

    /** {@code o_{i-1}}: the output at the previous grid time; at the first step the state (noise) or none (data). */
    private NDArray previous(Step step, NDArray x) {
        if (step.index() == 0) {
            return data ? null : x;
        }
        History h = step.history();
        History.Entry e = h.size() > 1 ? h.get(1) : null;
        if (e == null || e.t() != step.grid()[step.index() - 1]) {
            throw new IllegalStateException("dode: the history holds no model output at the previous grid time");
        }
        return e.value();
    }

    /**
     * The total coefficient of the newest model output {@code o_i} (at the step's start) in the base combination that
     * produces {@code x_{i+1}}. Call after {@link Step#modelAtStart} and before the base step (the history must
     * still end at {@code s}).
     */
    double startCoefficient(Step step) {
        NoiseSchedule ns = step.schedule();
        double s = step.s();
        double t = step.t();
        History h = step.history();
        if (base instanceof DpmSolver d) {
            int order = DpmSolverMultistep.stepOrder(d.order(), step.number(), step.count(),
                    step.config().lowerOrderFinal());
            double[] times = new double[order];
            for (int k = 0; k < order; k++) {
                times[k] = h.get(k).t();
            }
            return ((DpmSolverMultistep) solver).update(ns, times, t, order).coefficient(1);
        }
        if (base instanceof UniPc u) {
            return uniPcCoefficient(u, ns, step, h);
        }
        return ns.alpha(t) - ns.alpha(s) * (ns.sigma(t) / ns.sigma(s)); // ddim: x_t = ratio x + (alpha_t - alpha_s ratio) x0
    }

    /** UniPC: the coefficient of {@code m_s} in {@code x_t^c} (or {@code x_t^p} at the final step), as in UniPcSolver. */
    private static double uniPcCoefficient(UniPc u, NoiseSchedule ns, Step step, History h) {
        int n = step.number();
        int steps = step.count();
        int order = UniPcSolver.stepOrder(u.order(), n, steps, step.config().lowerOrderFinal());
        boolean corrector = n < steps;
        boolean dataPred = u.prediction() == PredictionType.DATA;
        double[] lambdas = new double[order];
        for (int k = 0; k < order; k++) {
            lambdas[k] = ns.lambda(h.get(k).t());
        }
        double t = step.t();
        UniPcSolver.Coefficients c = UniPcSolver.coefficients(lambdas, ns.lambda(t), order, dataPred, u.variant(),
                true, corrector);
        // basis: [m_s, m_1, m_2, m_t]; only m_s's coefficient is needed
        int size = 4;
        Combo ms = Combo.basis(size, 0);
        Combo[] d1s = new Combo[order - 1];
        for (int k = 1; k < order; k++) {
            d1s[k - 1] = Combo.basis(size, k).minus(ms).div(c.rks()[k - 1]);
        }
        double scale = dataPred ? ns.alpha(t) : ns.sigma(t);
        Combo xMinus = ms.times(-scale * c.hPhi1());
        if (!corrector) {
            if (order < 2) {
                return xMinus.coefficient(0);
            }
            Combo predRes = Combo.zero(size);
            for (int k = 0; k < order - 1; k++) {
                predRes = predRes.plus(d1s[k].times(c.rhosP()[k]));
            }
            return xMinus.minus(predRes.times(scale * c.bh())).coefficient(0);
        }
        double[] rc = c.rhosC();
        Combo corrRes = Combo.basis(size, 3).minus(ms).times(rc[order - 1]);
        for (int k = 0; k < order - 1; k++) {
            corrRes = corrRes.plus(d1s[k].times(rc[k]));
        }
        return xMinus.minus(corrRes.times(scale * c.bh())).coefficient(0);
    }
}
