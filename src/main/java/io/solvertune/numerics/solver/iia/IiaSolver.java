package io.solvertune.numerics.solver.iia;

import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.numerics.solver.dpm.DpmSolverMultistep;
import io.solvertune.numerics.solver.edm.EdmHeunSolver;
import io.solvertune.numerics.solver.History;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.Step;
import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Combo;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.solver.iia.Iia.Form;

/**
 * IIA (Zhang, Niwa, Kleijn, "On Accelerating Diffusion-Based Sampling Processes via Improved Integration
 * Approximation", ICLR 2024): the base solver's step plus fitted multiples of its own gradient vectors,
 * {@code x_{i+1} = base(x_i) + sum_k c_{i,k} g_{i,k}}. The paper writes the same updates with the base step sizes
 * folded into the coefficients (e.g. BIIA-EDM: {@code z_{i+1} = z_i + sum_j c_{ij} (d_{i-j} + d'_{i-j+1})/2}); here
 * the base part is kept and the coefficients are the correction, so zeros are neutral and reproduce the base
 * solver bit for bit (the paper's value of a current-step coefficient = base step size + ours).
 *
 * <p>Notation: step {@code i} goes from {@code s = t_i} to {@code t = t_{i+1}}; {@code x0_j} is the data prediction
 * at {@code (z_j, t_j)}, {@code eps_j = (z_j - alpha_j x0_j)/sigma_j}. The EDM forms run Heun in EDM form on
 * {@code x~ = x/alpha} against {@code sigma~ = sigma/alpha} (as {@link EdmHeunSolver}): {@code D_j} = data prediction
 * at {@code z_j}, predictor {@code x~'_{j+1} = x~_j + (sigma~_{j+1} - sigma~_j) d_j} with
 * {@code d_j = (x~_j - D_j)/sigma~_j}, {@code D'_{j+1}} = data prediction at the predictor,
 * {@code d'_{j+1} = (x~'_{j+1} - D'_{j+1})/sigma~_{j+1}}. A correction {@code c g~} of the EDM-form state
 * {@code x~_{i+1}} is the correction {@code alpha_t c g~} of the VP state, so the EDM vectors below carry the factor
 * {@code alpha_t} and the coefficients are those of the EDM form.
 *
 * <ul>
 *   <li>{@code IIA_DDIM} (paper Sec. 4): base DDIM {@code alpha_t x0_i + sigma_t eps_i}; vectors, for
 *       {@code k = 1..min(i, r)}: {@code alpha_t (x0_i - x0_{i-k})} and {@code sigma_t (eps_i - eps_{i-k})} (a
 *       refined data and a refined noise estimate); step 0 has none.</li>
 *   <li>{@code IIA_DPMSOLVER_2M} (paper Sec. 4 / App. C): base DPM-Solver++(2M) (first step first order, official
 *       lower-order-final rule); the same vectors as IIA-DDIM.</li>
 *   <li>{@code IIA_EDM} (paper Sec. 3.3): base Heun, which is {@code x~_i + (dsigma/sigma~_i)(x~_i - D_i)
 *       + (dsigma/(2 sigma~_{i+1}))(D_i - D'_{i+1})}; vectors, for {@code j = i - min(i, r) .. i}: the "first
 *       gradient" {@code alpha_t (x~_j - D_j)} and the "second gradient" {@code alpha_t (D'_{j+1} - D_j)}.</li>
 *   <li>{@code BIIA_EDM} (paper Sec. 3.2 / App. A): base Heun {@code x~_i + dsigma (d_i + d'_{i+1})/2}; vectors
 *       {@code alpha_t (d_j + d'_{j+1})/2} for {@code j = i - min(i, r) .. i} (r = 0: one step-size correction).</li>
 * </ul>
 *
 * <p>History: besides the model output at {@code s} the solver remembers a copy of the state {@code z_i} and, for
 * the EDM forms, the predictor's output {@code D'_{i+1}}, all keyed by {@code s} (so the next step never mistakes
 * them for an output at its own start), for the current and the {@code r} (DPM-Solver: at least 1) previous steps.
 * NFE per step as the base solver.
 */
public final class IiaSolver implements Solver {
    private final Form form;
    private final int r;
    private final double[][] coefficients;
    private final double[] times;
    private final int entries;
    private final int past;
    private final DpmSolverMultistep dpm;

    /**
     * @param coefficients one row per step, or {@code null} for a stepped fitting run ({@link IiaRun}) that supplies
     *                     them step by step
     * @param times        explicit grid or {@code null}
     */
    IiaSolver(Form form, int r, double[][] coefficients, double[] times) {
        this.form = form;
        this.r = r;
        this.coefficients = coefficients;
        this.times = times;
        this.entries = form.nfePerStep() == 2 ? 3 : 2;
        this.past = Math.max(r, form == Form.IIA_DPMSOLVER_2M ? 1 : 0);
        this.dpm = form == Form.IIA_DPMSOLVER_2M ? new DpmSolverMultistep(DpmSolver.plusPlusMultistep(2)) : null;
    }

    @Override
    public PredictionType historyType() {
        return PredictionType.DATA;
    }

    @Override
    public int historyCapacity() {
        return entries * (past + 1);
    }

    @Override
    public double[] grid(NoiseSchedule schedule, SamplerConfig config, double tStart, double tEnd) {
        if (coefficients != null && coefficients.length != config.steps()) {
            throw new IllegalArgumentException("iia: coefficients have " + coefficients.length + " rows but the run has "
                    + config.steps() + " steps");
        }
        if (times != null) {
            if (times.length != config.steps() + 1) {
                throw new IllegalArgumentException("iia: times have " + times.length + " entries but the run has "
                        + config.steps() + " steps");
            }
            return times.clone();
        }
        return Solver.super.grid(schedule, config, tStart, tEnd);
    }

    @Override
    public NDArray step(Step step, NDArray x) {
        return update(terms(step, x), coefficients[step.index()]);
    }

    /**
     * One step's pieces: the arrays they combine, the base update and the gradient vectors (in column order), all
     * as combinations of {@code basis}. The arrays belong to the step (or the history).
     */
    record Terms(NDArray[] basis, Combo base, Combo[] vectors) {
    }

    /** {@code base + sum_k c_k vectors_k}, evaluated in one pass; zero coefficients leave the base untouched. */
    static NDArray update(Terms terms, double[] c) {
        if (c.length != terms.vectors.length) {
            throw new IllegalArgumentException("iia: step has " + terms.vectors.length + " gradient vectors but "
                    + c.length + " coefficients");
        }
        Combo u = terms.base;
        for (int k = 0; k < c.length; k++) {
            if (c[k] != 0.0) {
                u = u.plus(terms.vectors[k].times(c[k]));
            }
        }
        return u.apply(terms.basis);
    }

    /** Evaluates the model for step {@code step} from {@code x} and returns its pieces. */
    Terms terms(Step step, NDArray x) {
        return form.nfePerStep() == 2 ? edmTerms(step, x) : exponentialTerms(step, x);
    }

    // basis of the DDIM / DPM-Solver forms: per available step k back, [z_{i-k}, x0_{i-k}]
    private Terms exponentialTerms(Step step, NDArray x) {
        NoiseSchedule ns = step.schedule();
        int i = step.index();
        double[] grid = step.grid();
        double s = step.s();
        double t = step.t();
        step.modelAtStart(x);
        step.remember(s, x.duplicate());
        History h = step.history();
        int avail = Math.min(Math.min(i, past), h.size() / entries - 1);
        int size = 2 * (avail + 1);
        NDArray[] basis = new NDArray[size];
        for (int k = 0; k <= avail; k++) {
            basis[2 * k] = h.get(2 * k).value();
            basis[2 * k + 1] = h.get(2 * k + 1).value();
        }
        Combo z0 = Combo.basis(size, 0);
        Combo m0 = Combo.basis(size, 1);
        Combo base;
        if (form == Form.IIA_DDIM) {
            double ratio = ns.sigma(t) / ns.sigma(s);
            base = z0.times(ratio).plus(m0.times(ns.alpha(t) - ns.alpha(s) * ratio));
        } else {
            int order = DpmSolverMultistep.stepOrder(2, step.number(), step.count(), step.config().lowerOrderFinal());
            double[] tm = order == 1 ? new double[] {grid[i]} : new double[] {grid[i], grid[i - 1]};
            double[] c = dpm.update(ns, tm, t, order).coefficients();
            base = z0.times(c[0]).plus(m0.times(c[1]));
            if (order > 1) {
                base = base.plus(Combo.basis(size, 3).times(c[2]));
            }
        }
        int n = Math.min(i, r);
        Combo[] vectors = new Combo[2 * n];
        Combo eps0 = eps(ns, grid[i], z0, m0);
        for (int k = 1; k <= n; k++) {
            Combo zk = Combo.basis(size, 2 * k);
            Combo mk = Combo.basis(size, 2 * k + 1);
            vectors[2 * (k - 1)] = m0.minus(mk).times(ns.alpha(t));
            vectors[2 * (k - 1) + 1] = eps0.minus(eps(ns, grid[i - k], zk, mk)).times(ns.sigma(t));
        }
        return new Terms(basis, base, vectors);
    }

    private static Combo eps(NoiseSchedule ns, double time, Combo z, Combo x0) {
        return z.minus(x0.times(ns.alpha(time))).times(1.0 / ns.sigma(time));
    }

    // basis of the EDM forms: per available step k back, [z_{i-k}, D_{i-k}, D'_{i-k+1}]
    private Terms edmTerms(Step step, NDArray x) {
        NoiseSchedule ns = step.schedule();
        int i = step.index();
        double[] grid = step.grid();
        double s = step.s();
        double t = step.t();
        NDArray d0 = step.modelAtStart(x);
        step.remember(s, x.duplicate());
        History h = step.history();
        // newest first: z_i, D_i, then [D'_{j+1}, z_j, D_j] of each earlier step j
        int avail = Math.min(Math.min(i, past), (h.size() - 2) / entries);
        int size = 3 * (avail + 1);
        NDArray[] basis = new NDArray[size];
        basis[0] = h.get(0).value();
        basis[1] = d0;
        for (int k = 1; k <= avail; k++) {
            basis[3 * k + 2] = h.get(3 * k - 1).value();
            basis[3 * k] = h.get(3 * k).value();
            basis[3 * k + 1] = h.get(3 * k + 1).value();
        }
        double as = ns.alpha(s);
        double at = ns.alpha(t);
        double ss = ns.sigma(s) / as;
        double st = ns.sigma(t) / at;
        if (!(st > 0)) {
            throw new IllegalArgumentException("iia: the EDM forms need a positive noise level at every step end, got "
                    + st + " at t = " + t);
        }
        double dt = st - ss;
        // Heun exactly as EdmHeunSolver (same combinations in the same order: bit-for-bit equal base)
        Combo xc = Combo.basis(size, 0);
        Combo d0c = Combo.basis(size, 1);
        Combo d1c = Combo.basis(size, 2);
        Combo ds = xc.times(1.0 / (as * ss)).minus(d0c.times(1.0 / ss));
        Combo xe = xc.times(at / as).plus(ds.times(at * dt));
        NDArray d1;
        try (NDArray xeNd = xe.apply(basis)) {
            d1 = step.model(xeNd, t);
        }
        basis[2] = d1;
        step.remember(s, d1);
        Combo dtv = xe.times(1.0 / (at * st)).minus(d1c.times(1.0 / st));
        Combo base = xc.times(at / as).plus(ds.plus(dtv).times(at * dt * 0.5));

        int n = Math.min(i, r);
        int per = form == Form.IIA_EDM ? 2 : 1;
        Combo[] vectors = new Combo[per * (n + 1)];
        for (int k = 0; k <= n; k++) {
            double sj = grid[i - k];
            double tj = grid[i - k + 1];
            double aSj = ns.alpha(sj);
            double sigSj = ns.sigma(sj) / aSj;
            double sigTj = ns.sigma(tj) / ns.alpha(tj);
            Combo zk = Combo.basis(size, 3 * k).times(1.0 / aSj); // x~_j
            Combo dk = Combo.basis(size, 3 * k + 1);              // D_j
            Combo dpk = Combo.basis(size, 3 * k + 2);             // D'_{j+1}
            if (form == Form.IIA_EDM) {
                vectors[2 * k] = zk.minus(dk).times(at);
                vectors[2 * k + 1] = dpk.minus(dk).times(at);
            } else {
                Combo dj = zk.minus(dk).times(1.0 / sigSj);
                Combo pred = zk.plus(dj.times(sigTj - sigSj));
                Combo dpj = pred.minus(dpk).times(1.0 / sigTj);
                vectors[k] = dj.plus(dpj).times(0.5 * at);
            }
        }
        return new Terms(basis, base, vectors);
    }
}
