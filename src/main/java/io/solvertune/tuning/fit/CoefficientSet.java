package io.solvertune.tuning.fit;

import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.ModelHash;
import io.solvertune.tuning.teacher.TeacherSettings;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.ScheduleSpec;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One fitted set of per-step solver coefficients (IIA, BIIA, D-ODE, DC-Solver, ConsistencySolver), with the grid it was fitted on, how
 * the fit went, how it validated on held-out seeds and where it came from. Immutable; the JSON form is the artifact
 * (round trip via {@link #toJson()} / {@link #fromJson(String)}).
 *
 * @param formatVersion {@link #FORMAT_VERSION}
 * @param method        which method the values belong to
 * @param base          the base (untuned) solver the coefficients modify
 * @param spacing       the timestep spacing of the sampling grid
 * @param steps         number of steps of the base solver's run ({@code values.length} rows)
 * @param nfe           model evaluations of one tuned run
 * @param times         the {@code steps + 1} grid times the coefficients were fitted on (exact continuous times)
 * @param columns       name of each value column, e.g. {@code ["ratio"]}, {@code ["lambda"]}, {@code ["c_cur", "c_prev"]}
 * @param values        one row per step ({@code values[i]} belongs to the step from {@code times[i]} to
 *                      {@code times[i+1]}); the neutral values reproduce the base solver
 * @param fit           residuals, iterations, time and warnings of the fit
 * @param validation    held-out comparison with the base solver and the best untuned baseline ({@code null} until
 *                      validated)
 * @param provenance    model, schedule, guidance, teacher, seeds, code version, settings
 * @param baseSpacing   the untuned spacing the set's grid was learned from ({@code null}: the set's spacing is its base
 *                      solver's own); the base solver on it is the set's own base in its validation
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CoefficientSet(int formatVersion, Method method, SolverSpec base, TimestepSpacing spacing, int steps,
                             int nfe, double[] times, List<String> columns, double[][] values, FitReport fit,
                             Validation validation, Provenance provenance, TimestepSpacing baseSpacing) {

    public static final int FORMAT_VERSION = 1;

    /** A set on its base solver's own spacing ({@code baseSpacing} null). */
    public CoefficientSet(int formatVersion, Method method, SolverSpec base, TimestepSpacing spacing, int steps, int nfe,
                          double[] times, List<String> columns, double[][] values, FitReport fit, Validation validation,
                          Provenance provenance) {
        this(formatVersion, method, base, spacing, steps, nfe, times, columns, values, fit, validation, provenance, null);
    }

    /**
     * The fitted methods. {@code TIMESTEPS}: the base solver itself on a learned grid (no per-step values; every row
     * is empty and the set is neutral, so it samples exactly as its base on its explicit grid). {@code CONSISTENCY}:
     * the materialised per-NFE table of a trained ConsistencySolver.
     */
    public enum Method { IIA, BIIA, DODE, DC, TIMESTEPS, CONSISTENCY }

    /** The outcome of a held-out comparison at two standard errors of the paired difference. */
    public enum Verdict {
        BEATS, TIE, WORSE;

        /** From {@link Evaluation.Result#verdict}. */
        public static Verdict of(Evaluation.Result tuned, Evaluation.Result other) {
            return tuned.beats(other) ? BEATS : other.beats(tuned) ? WORSE : TIE;
        }
    }

    /**
     * How the fit went.
     *
     * @param samples           training samples used
     * @param residuals         per step: the fit objective after fitting (e.g. MSE to the target)
     * @param baseResiduals     per step: the same objective with neutral values
     * @param iterations        per step: iterations of the optimiser (1 for closed forms)
     * @param seconds           wall time of the fit, including its targets
     * @param warnings          what the fitter detected and did (ill-conditioning, steps reset to neutral, ...)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FitReport(int samples, double[] residuals, double[] baseResiduals, int[] iterations, double seconds,
                            List<String> warnings) {
    }

    /**
     * The held-out comparison (mean per-seed MSE against the teacher's final state).
     *
     * @param seeds          held-out seeds
     * @param mse            tuned mean MSE
     * @param stdErr         its standard error
     * @param baseMse        the base solver's mean MSE on the same seeds
     * @param baseStdErr     its standard error
     * @param vsBase         verdict against the base solver (BEATS = lower by more than 2 paired s.e.)
     * @param baseline       name of the best untuned baseline at this NFE (chosen on training seeds), or null
     * @param baselineMse    its held-out mean MSE
     * @param vsBaseline     verdict against it, or null
     * @param median         median of the tuned per-seed MSE (null in sets validated before it was recorded)
     * @param p99            99th percentile of the tuned per-seed MSE (numpy's linear interpolation), or null
     * @param baseMedian     median of the base solver's per-seed MSE, or null
     * @param baseP99        its 99th percentile, or null
     * @param baselineMedian median of the best untuned baseline's per-seed MSE, or null
     * @param baselineP99    its 99th percentile, or null
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Validation(int seeds, double mse, double stdErr, double baseMse, double baseStdErr, Verdict vsBase,
                             String baseline, Double baselineMse, Verdict vsBaseline, Double median, Double p99,
                             Double baseMedian, Double baseP99, Double baselineMedian, Double baselineP99) {

        /** Without the per-seed quantiles (as validated before they were recorded). */
        public Validation(int seeds, double mse, double stdErr, double baseMse, double baseStdErr, Verdict vsBase,
                          String baseline, Double baselineMse, Verdict vsBaseline) {
            this(seeds, mse, stdErr, baseMse, baseStdErr, vsBase, baseline, baselineMse, vsBaseline, null, null, null,
                    null, null, null);
        }

        /**
         * The same validation with the median and 99th percentile of the per-seed errors of the tuned run, its base
         * and the best untuned baseline ({@code baseline} may be null; a result without per-seed errors gives null).
         */
        public Validation withQuantiles(Evaluation.Result tuned, Evaluation.Result base, Evaluation.Result baseline) {
            return new Validation(seeds, mse, stdErr, baseMse, baseStdErr, vsBase, this.baseline, baselineMse,
                    vsBaseline, median(tuned), p99(tuned), median(base), p99(base), median(baseline), p99(baseline));
        }

        /** Published only if it beats its base solver. */
        public boolean publishable() {
            return vsBase == Verdict.BEATS;
        }

        private static Double median(Evaluation.Result r) {
            return r == null ? null : finite(r.median());
        }

        private static Double p99(Evaluation.Result r) {
            return r == null ? null : finite(r.p99());
        }

        private static Double finite(double v) {
            return Double.isFinite(v) ? v : null;
        }
    }

    /**
     * Where a set came from.
     *
     * @param modelHash   {@link ModelHash} of the model spec
     * @param schedule    the noise schedule
     * @param guidance    conditioning and guidance scale
     * @param teacher     teacher settings of the targets (null where the targets are the base solver's own fine solve)
     * @param trainSeeds  seeds of the fit samples
     * @param codeVersion {@link io.solvertune.numerics.CodeVersion}
     * @param createdAt   ISO-8601 instant
     * @param settings    the fitter's settings (sample count, bounds, sub-steps, regularisation, objective, ...)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Provenance(String modelHash, ScheduleSpec schedule, Guidance guidance, TeacherSettings teacher,
                             long[] trainSeeds, String codeVersion, String createdAt, Map<String, Object> settings) {
    }

    public CoefficientSet {
        if (formatVersion != FORMAT_VERSION) {
            throw new IllegalArgumentException("coefficient set: unsupported formatVersion " + formatVersion);
        }
        Objects.requireNonNull(method, "coefficient set: method is required");
        Objects.requireNonNull(base, "coefficient set: base solver is required");
        Objects.requireNonNull(spacing, "coefficient set: spacing is required");
        if (steps < 1) {
            throw new IllegalArgumentException("coefficient set: steps must be >= 1, got " + steps);
        }
        if (times == null || times.length != steps + 1) {
            throw new IllegalArgumentException("coefficient set: times must have steps + 1 = " + (steps + 1) + " entries");
        }
        if (values == null || values.length != steps) {
            throw new IllegalArgumentException("coefficient set: values must have one row per step (" + steps + ")");
        }
        if (columns == null || columns.isEmpty() && method != Method.TIMESTEPS) {
            throw new IllegalArgumentException("coefficient set: columns are required");
        }
        if (baseSpacing != null && !(spacing instanceof TimestepSpacing.Explicit)) {
            throw new IllegalArgumentException("coefficient set: a base spacing belongs to a learned (explicit) grid, "
                    + "but the spacing is " + spacing.id());
        }
        double[][] copy = new double[steps][];
        for (int i = 0; i < steps; i++) {
            if (values[i] == null || values[i].length > columns.size()) {
                throw new IllegalArgumentException("coefficient set: values[" + i + "] must have at most "
                        + columns.size() + " entries (" + columns + ")");
            }
            for (double v : values[i]) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("coefficient set: values[" + i + "] is not finite");
                }
            }
            copy[i] = values[i].clone();
        }
        values = copy;
        times = times.clone();
        columns = List.copyOf(columns);
    }

    /** The same set with its held-out validation. */
    public CoefficientSet withValidation(Validation v) {
        return new CoefficientSet(formatVersion, method, base, spacing, steps, nfe, times, columns, values, fit, v,
                provenance, baseSpacing);
    }

    /** The neutral value of every coefficient of this method: DC ratios 1, IIA / BIIA / D-ODE coefficients 0. */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public double neutralValue() {
        return method == Method.DC ? 1.0 : 0.0;
    }

    /**
     * The same set with every value neutral (the base solver exactly), recording why in the fit's warnings; the
     * validation is dropped (it belonged to the fitted values).
     */
    public CoefficientSet reset(String reason) {
        double[][] v = new double[values.length][];
        for (int i = 0; i < v.length; i++) {
            v[i] = new double[values[i].length];
            java.util.Arrays.fill(v[i], neutralValue());
        }
        FitReport f = fit;
        if (f != null) {
            List<String> w = new java.util.ArrayList<>(f.warnings() == null ? List.of() : f.warnings());
            w.add(reason);
            f = new FitReport(f.samples(), f.residuals(), f.baseResiduals(), f.iterations(), f.seconds(), w);
        }
        return new CoefficientSet(formatVersion, method, base, spacing, steps, nfe, times, columns, v, f, null,
                provenance, baseSpacing);
    }

    /** The same set on a learned grid: its spacing is that grid's, {@code baseSpacing} the untuned one it left. */
    public CoefficientSet withBaseSpacing(TimestepSpacing untuned) {
        return new CoefficientSet(formatVersion, method, base, spacing, steps, nfe, times, columns, values, fit,
                validation, provenance, untuned);
    }

    /** Whether every value is this method's neutral value (the set samples exactly as its base solver). */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isNeutral() {
        for (double[] row : values) {
            for (double x : row) {
                if (x != neutralValue()) {
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public double[] times() {
        return times.clone();
    }

    @Override
    public double[][] values() {
        double[][] c = new double[values.length][];
        for (int i = 0; i < values.length; i++) {
            c[i] = values[i].clone();
        }
        return c;
    }

    /** Canonical JSON (sorted keys). */
    public String toJson() {
        return Json.canonical(this);
    }

    public static CoefficientSet fromJson(String json) {
        try {
            return Json.MAPPER.readValue(json, CoefficientSet.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("coefficient set: " + e.getOriginalMessage(), e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CoefficientSet c && toJson().equals(c.toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return "CoefficientSet[" + method + " " + base.label() + " " + spacing.id() + " steps " + steps + " values "
                + Arrays.deepToString(values) + "]";
    }
}
