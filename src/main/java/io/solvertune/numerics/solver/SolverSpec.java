package io.solvertune.numerics.solver;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.PredictionType;

/**
 * Which solver, with its options: enums and records, validated on construction. {@link #create()} makes the
 * per-run {@link Solver} (solvers hold per-run state, e.g. a singlestep order plan, so make one per run).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "solver")
@JsonSubTypes({
    @JsonSubTypes.Type(value = SolverSpec.Ddim.class, name = "ddim"),
    @JsonSubTypes.Type(value = SolverSpec.DpmSolver.class, name = "dpmsolver"),
    @JsonSubTypes.Type(value = SolverSpec.UniPc.class, name = "unipc"),
    @JsonSubTypes.Type(value = SolverSpec.EdmEuler.class, name = "euler"),
    @JsonSubTypes.Type(value = SolverSpec.EdmHeun.class, name = "heun"),
    @JsonSubTypes.Type(value = SolverSpec.DpmSolverV3.class, name = "dpmsolver-v3"),
    @JsonSubTypes.Type(value = SolverSpec.Iia.class, name = "iia"),
    @JsonSubTypes.Type(value = SolverSpec.Dode.class, name = "dode"),
    @JsonSubTypes.Type(value = SolverSpec.Dc.class, name = "dc"),
})
public sealed interface SolverSpec {

    /** A new solver instance for one sampling run. */
    Solver create();

    /** Short human-readable label, e.g. {@code dpmsolver++ multistep o2}. */
    String label();

    /** Multistep or singlestep DPM-Solver. */
    enum Method { MULTISTEP, SINGLESTEP }

    /** High-order update flavour of DPM-Solver ('dpmsolver' = midpoint-like, 'taylor'). */
    enum SolverType { DPMSOLVER, TAYLOR }

    /** UniPC's B(h): {@code bh1} = h, {@code bh2} = e^h - 1. */
    enum Variant { BH1, BH2 }

    /** Deterministic DDIM (eta = 0): {@code x_t = alpha_t x0 + sigma_t eps} from one model call at s. */
    record Ddim() implements SolverSpec {
        @Override
        public Solver create() {
            return new DdimSolver();
        }

        @Override
        public String label() {
            return "ddim";
        }
    }

    /**
     * DPM-Solver (noise prediction, {@code prediction = NOISE}) or DPM-Solver++ (data prediction,
     * {@code prediction = DATA}), singlestep orders 1-3 ("fast" order plan) or multistep orders 1-3.
     */
    record DpmSolver(PredictionType prediction, Method method, int order, SolverType solverType) implements SolverSpec {
        public DpmSolver {
            if (prediction != PredictionType.NOISE && prediction != PredictionType.DATA) {
                throw new IllegalArgumentException("dpmsolver: prediction must be noise or data, got " + prediction);
            }
            if (method == null) {
                throw new IllegalArgumentException("dpmsolver: method is required");
            }
            if (order < 1 || order > 3) {
                throw new IllegalArgumentException("dpmsolver: order must be 1, 2 or 3, got " + order);
            }
            if (solverType == null) {
                solverType = SolverType.DPMSOLVER;
            }
        }

        /** DPM-Solver++ multistep with the default update type. */
        public static DpmSolver plusPlusMultistep(int order) {
            return new DpmSolver(PredictionType.DATA, Method.MULTISTEP, order, SolverType.DPMSOLVER);
        }

        @Override
        public Solver create() {
            return method == Method.MULTISTEP ? new DpmSolverMultistep(this) : new DpmSolverSinglestep(this);
        }

        @Override
        public String label() {
            return (prediction == PredictionType.DATA ? "dpmsolver++" : "dpmsolver") + " "
                    + method.name().toLowerCase(java.util.Locale.ROOT) + " o" + order
                    + (solverType == SolverType.TAYLOR ? " taylor" : "");
        }
    }

    /** UniPC multistep (predictor UniP + corrector UniC), orders 1-3, bh1/bh2, data or noise prediction. */
    record UniPc(PredictionType prediction, Variant variant, int order) implements SolverSpec {
        public UniPc {
            if (prediction != PredictionType.NOISE && prediction != PredictionType.DATA) {
                throw new IllegalArgumentException("unipc: prediction must be noise or data, got " + prediction);
            }
            if (variant == null) {
                throw new IllegalArgumentException("unipc: variant (bh1 or bh2) is required");
            }
            if (order < 1 || order > 3) {
                throw new IllegalArgumentException("unipc: order must be 1, 2 or 3, got " + order);
            }
        }

        @Override
        public Solver create() {
            return new UniPcSolver(this);
        }

        @Override
        public String label() {
            return "unipc " + (prediction == PredictionType.DATA ? "data" : "noise") + " "
                    + variant.name().toLowerCase(java.util.Locale.ROOT) + " o" + order;
        }
    }

    /** Euler in EDM form: on {@code x/alpha} against {@code sigma/alpha}, {@code d = (x - D)/sigma}. */
    record EdmEuler() implements SolverSpec {
        @Override
        public Solver create() {
            return new EdmEulerSolver();
        }

        @Override
        public String label() {
            return "euler";
        }
    }

    /** Heun (EDM Algorithm 1, deterministic): Euler predictor plus trapezoidal correction, 2 NFE per step. */
    record EdmHeun() implements SolverSpec {
        @Override
        public Solver create() {
            return new EdmHeunSolver();
        }

        @Override
        public String label() {
            return "heun";
        }
    }

    /**
     * DPM-Solver-v3 (Zheng et al. 2023; thu-ml/DPM-Solver-v3 {@code DPM_Solver_v3}): multistep predictor with
     * optional corrector on the noise prediction, driven by empirical model statistics. Sampling times are the
     * config's spacing snapped to the statistics grid, or {@code explicitIndexes} into that grid.
     *
     * @param ems             the statistics (JSON shows their metadata only; the arrays are not serialized)
     * @param order           predictor order, 1-3 ({@code sample(order=...)})
     * @param pPseudo         predictor derivatives by divided differences instead of the Vandermonde solve
     * @param useCorrector    apply the corrector after each model evaluation (the official {@code use_corrector})
     * @param cPseudo         corrector with pseudo order + 1 (divided differences)
     * @param half            corrector only where {@code t > 0.5} (the official condition
     *                        {@code use_corrector and (t > 0.5 or not half)})
     * @param degenerated     replace the statistics by {@code l = 1, s = b = 0} (DPM-Solver++ up to quadrature)
     * @param explicitIndexes grid indexes of the {@code steps + 1} sampling times, strictly increasing in
     *                        {@code [0, K]} (the config's spacing and time range are then ignored; its
     *                        {@code steps} must match), or {@code null} to snap the config's spacing
     */
    record DpmSolverV3(EmpiricalModelStatistics ems, int order, boolean pPseudo, boolean useCorrector, boolean cPseudo,
                       boolean half, boolean degenerated, int[] explicitIndexes) implements SolverSpec {
        public DpmSolverV3 {
            if (ems == null) {
                throw new IllegalArgumentException("dpmsolver-v3: ems (empirical model statistics) is required");
            }
            if (order < 1 || order > 3) {
                throw new IllegalArgumentException("dpmsolver-v3: order must be 1, 2 or 3, got " + order);
            }
            if (explicitIndexes != null) {
                explicitIndexes = explicitIndexes.clone();
                DpmSolverV3Solver.checkIndexes(explicitIndexes, ems.gridSteps());
            }
        }

        /** Official defaults of {@code sample}: no pseudo orders, corrector on, no {@code half}, snapped spacing. */
        public static DpmSolverV3 of(EmpiricalModelStatistics ems, int order) {
            return new DpmSolverV3(ems, order, false, true, false, false, false, null);
        }

        @Override
        public int[] explicitIndexes() {
            return explicitIndexes == null ? null : explicitIndexes.clone();
        }

        @Override
        public Solver create() {
            return new DpmSolverV3Solver(this);
        }

        @Override
        public String label() {
            return "dpmsolver-v3 o" + order + (pPseudo ? " ppseudo" : "") + (useCorrector ? " corr" : "")
                    + (cPseudo ? " cpseudo" : "") + (half ? " half" : "") + (degenerated ? " degenerated" : "");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof DpmSolverV3 v && ems.equals(v.ems) && order == v.order && pPseudo == v.pPseudo
                    && useCorrector == v.useCorrector && cPseudo == v.cPseudo && half == v.half
                    && degenerated == v.degenerated && java.util.Arrays.equals(explicitIndexes, v.explicitIndexes);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(ems, order, pPseudo, useCorrector, cPseudo, half, degenerated,
                    java.util.Arrays.hashCode(explicitIndexes));
        }

        @Override
        public String toString() {
            return "DpmSolverV3[ems=" + ems + ", order=" + order + ", pPseudo=" + pPseudo + ", useCorrector="
                    + useCorrector + ", cPseudo=" + cPseudo + ", half=" + half + ", degenerated=" + degenerated
                    + ", explicitIndexes=" + java.util.Arrays.toString(explicitIndexes) + "]";
        }
    }

    /**
     * IIA, improved integration approximation (Zhang, Niwa, Kleijn, ICLR 2024, arXiv 2304.11328): each step is the
     * base solver's step plus fitted multiples of the solver's own "gradient" vectors at the current and the {@code r}
     * most recent steps, {@code x_{i+1} = base(x_i) + sum_k c_{i,k} g_{i,k}} (see {@link IiaSolver} and
     * {@code docs/methods/iia.md} for the vectors of each form). All-zero coefficients are neutral: the run is the
     * base solver's, bit for bit. Fitted by {@code io.solvertune.tuning.IiaFitter}.
     *
     * @param form         base solver and gradient vectors
     * @param r            recent steps whose gradients enter besides the current step's (IIA default 1, BIIA 0)
     * @param coefficients one row per step; row {@code i} has exactly {@code form.columns(r, i)} entries (fewer for
     *                     the first steps, which have fewer past gradients; none at step 0 of the DDIM / DPM-Solver
     *                     forms)
     * @param times        the exact {@code steps + 1} grid times the coefficients belong to (then the config's
     *                     spacing and time range are ignored; its {@code steps} must match), or {@code null} for the
     *                     config's grid
     */
    record Iia(Form form, int r, double[][] coefficients, double[] times) implements SolverSpec {

        /** Which base solver is corrected, and with which gradient vectors. */
        public enum Form {
            /** DDIM; vectors {@code alpha_t (x0_i - x0_{i-k})}, {@code sigma_t (eps_i - eps_{i-k})}, k = 1..r. */
            IIA_DDIM(1, 2, false),
            /** DPM-Solver++(2M) multistep; the same vectors as {@link #IIA_DDIM}. */
            IIA_DPMSOLVER_2M(1, 2, false),
            /** Heun in EDM form; "first" {@code x~_j - D_j} and "second" {@code D'_{j+1} - D_j}, j = i-r..i. */
            IIA_EDM(2, 2, true),
            /** Heun in EDM form; the step's averaged gradient {@code (d_j + d'_{j+1})/2}, j = i-r..i. */
            BIIA_EDM(2, 1, true);

            private final int nfePerStep;
            private final int perStep;
            private final boolean includesCurrent;

            Form(int nfePerStep, int perStep, boolean includesCurrent) {
                this.nfePerStep = nfePerStep;
                this.perStep = perStep;
                this.includesCurrent = includesCurrent;
            }

            /** Model evaluations per step (Heun: 2). */
            public int nfePerStep() {
                return nfePerStep;
            }

            /** The untuned solver this form corrects. */
            public SolverSpec base() {
                return switch (this) {
                    case IIA_DDIM -> new Ddim();
                    case IIA_DPMSOLVER_2M -> DpmSolver.plusPlusMultistep(2);
                    case IIA_EDM, BIIA_EDM -> new EdmHeun();
                };
            }

            /** The paper's default r: 1, except BIIA-EDM (0). */
            public int defaultR() {
                return this == BIIA_EDM ? 0 : 1;
            }

            /** Coefficients of step {@code i} (0-based) with {@code r} recent steps. */
            public int columns(int r, int i) {
                int past = Math.min(i, r);
                return perStep * (includesCurrent ? past + 1 : past);
            }

            /** Names of the {@link #columns(int, int) columns} of a full row, current step first. */
            public java.util.List<String> columnNames(int r) {
                java.util.List<String> names = new java.util.ArrayList<>();
                for (int k = includesCurrent ? 0 : 1; k <= r; k++) {
                    switch (this) {
                        case IIA_DDIM, IIA_DPMSOLVER_2M -> {
                            names.add("dx0_" + k);
                            names.add("deps_" + k);
                        }
                        case IIA_EDM -> {
                            names.add("first_" + k);
                            names.add("second_" + k);
                        }
                        case BIIA_EDM -> names.add("avg_" + k);
                    }
                }
                return names;
            }

            /** Lower-case id, e.g. {@code iia_edm}. */
            public String id() {
                return name().toLowerCase(java.util.Locale.ROOT);
            }
        }

        public Iia {
            if (form == null) {
                throw new IllegalArgumentException("iia: form is required");
            }
            if (r < 0 || r > 8) {
                throw new IllegalArgumentException("iia: r must be in [0, 8], got " + r);
            }
            if (coefficients == null) {
                throw new IllegalArgumentException("iia: coefficients are required (one row per step)");
            }
            if (coefficients.length < 1) {
                throw new IllegalArgumentException("iia: coefficients must have one row per step, got none");
            }
            double[][] copy = new double[coefficients.length][];
            for (int i = 0; i < coefficients.length; i++) {
                int want = form.columns(r, i);
                if (coefficients[i] == null || coefficients[i].length != want) {
                    throw new IllegalArgumentException("iia: coefficients[" + i + "] must have " + want + " entries "
                            + form.columnNames(r).subList(0, want) + " for " + form.id() + " with r = " + r + ", got "
                            + (coefficients[i] == null ? "none" : coefficients[i].length));
                }
                for (double v : coefficients[i]) {
                    if (!Double.isFinite(v)) {
                        throw new IllegalArgumentException("iia: coefficients[" + i + "] is not finite");
                    }
                }
                copy[i] = coefficients[i].clone();
            }
            coefficients = copy;
            if (times != null) {
                if (times.length != coefficients.length + 1) {
                    throw new IllegalArgumentException("iia: times must have steps + 1 = " + (coefficients.length + 1)
                            + " entries, got " + times.length);
                }
                for (int i = 0; i + 1 < times.length; i++) {
                    if (!(times[i] > times[i + 1]) || !(times[i + 1] > 0)) {
                        throw new IllegalArgumentException("iia: times must be positive and strictly decreasing");
                    }
                }
                times = times.clone();
            }
        }

        /** All-zero (neutral) coefficients for {@code steps} steps: the base solver. */
        public static Iia neutral(Form form, int r, int steps) {
            double[][] c = new double[steps][];
            for (int i = 0; i < steps; i++) {
                c[i] = new double[form.columns(r, i)];
            }
            return new Iia(form, r, c, null);
        }

        /** Number of steps the coefficients cover. */
        public int steps() {
            return coefficients.length;
        }

        @Override
        public double[][] coefficients() {
            double[][] c = new double[coefficients.length][];
            for (int i = 0; i < c.length; i++) {
                c[i] = coefficients[i].clone();
            }
            return c;
        }

        @Override
        public double[] times() {
            return times == null ? null : times.clone();
        }

        /** Row {@code i} (not copied; package use). */
        double[] row(int i) {
            return coefficients[i];
        }

        @Override
        public Solver create() {
            return new IiaSolver(form, r, coefficients, times);
        }

        @Override
        public String label() {
            return form.id().replace('_', '-') + " r" + r;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Iia v && form == v.form && r == v.r
                    && java.util.Arrays.deepEquals(coefficients, v.coefficients) && java.util.Arrays.equals(times, v.times);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(form, r, java.util.Arrays.deepHashCode(coefficients),
                    java.util.Arrays.hashCode(times));
        }

        @Override
        public String toString() {
            return "Iia[form=" + form + ", r=" + r + ", coefficients=" + java.util.Arrays.deepToString(coefficients)
                    + ", times=" + java.util.Arrays.toString(times) + "]";
        }
    }

    /**
     * D-ODE (distilled ODE solver, {@link DodeSolver}): the base solver with the model output of step i replaced by
     * {@code ô_i = o_i + lambdas[i] (o_i - o_{i-1})}. All lambdas 0 is the base solver, bit for bit.
     *
     * @param base    ddim, dpmsolver multistep or unipc
     * @param lambdas one value per step; {@code lambdas[0]} must be 0 for a data-prediction base (its first step has
     *                no previous output)
     */
    record Dode(SolverSpec base, double[] lambdas) implements SolverSpec {
        public Dode {
            DodeSolver.checkBase(base);
            if (lambdas == null || lambdas.length == 0) {
                throw new IllegalArgumentException("dode: lambdas are required (one per step)");
            }
            for (int i = 0; i < lambdas.length; i++) {
                if (!Double.isFinite(lambdas[i])) {
                    throw new IllegalArgumentException("dode: lambdas[" + i + "] is not finite");
                }
            }
            if (lambdas[0] != 0.0 && DodeSolver.dataPrediction(base)) {
                throw new IllegalArgumentException("dode: lambdas[0] must be 0 for the data-prediction base "
                        + base.label() + " (its first step has no previous model output), got " + lambdas[0]);
            }
            lambdas = lambdas.clone();
        }

        @Override
        public double[] lambdas() {
            return lambdas.clone();
        }

        @Override
        public Solver create() {
            return new DodeSolver(base, lambdas, null);
        }

        @Override
        public String label() {
            return "d-" + base.label();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Dode d && base.equals(d.base) && java.util.Arrays.equals(lambdas, d.lambdas);
        }

        @Override
        public int hashCode() {
            return 31 * base.hashCode() + java.util.Arrays.hashCode(lambdas);
        }

        @Override
        public String toString() {
            return "Dode[base=" + base + ", lambdas=" + java.util.Arrays.toString(lambdas) + "]";
        }
    }

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
    record Dc(SolverSpec base, double[] ratios) implements SolverSpec {
        public Dc {
            if (base == null) {
                throw new IllegalArgumentException("dc: base solver is required");
            }
            boolean ok = base instanceof UniPc
                    || base instanceof DpmSolver d && d.method() == Method.MULTISTEP
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
}
