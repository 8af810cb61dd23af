package io.solvertune.exports;

import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.catalog.EvaluationPlan;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.MethodCatalog;

/**
 * What the export rules need to know about a config and its model: the exact run that was validated (solver,
 * grid, order options, time range), what kind of config it is, and the model's schedule, prediction type and
 * whether it is a network (whose output depends on the time it receives) or an exact model (whose output depends
 * only on the noise level).
 *
 * @param kind       baseline, coefficient set or DPM-Solver-v3
 * @param run        the validated run ({@code steps} as the sampler counts them)
 * @param times      the config's stored grid (the {@code steps + 1} outer times)
 * @param set        the coefficient set (coefficient configs only)
 * @param cpr        whether the config carries DC-Solver cascade-polynomial coefficients
 * @param schedule   the model's noise schedule
 * @param prediction what the model predicts
 * @param network    the model is a network (TorchScript): its output depends on the time input, not only on
 *                   the noise level
 * @param guidance   the guidance scale the config was validated at
 */
public record ExportSubject(Kind kind, SamplerConfig run, double[] times, CoefficientSet set, boolean cpr,
                            NoiseSchedule schedule, PredictionType prediction, boolean network, double guidance) {

    /** The three config kinds. */
    public enum Kind { BASELINE, COEFFICIENTS, DPMSOLVER_V3 }

    public ExportSubject {
        if (kind == null || run == null || times == null || schedule == null || prediction == null) {
            throw new IllegalArgumentException("export subject: kind, run, times, schedule and prediction are required");
        }
        if (kind == Kind.COEFFICIENTS && set == null) {
            throw new IllegalArgumentException("export subject: a coefficient config needs its set");
        }
        times = times.clone();
    }

    /** An untuned baseline run. */
    public static ExportSubject baseline(SamplerConfig run, double[] times, NoiseSchedule schedule,
                                         PredictionType prediction, boolean network, double guidance) {
        return new ExportSubject(Kind.BASELINE, run, times, null, false, schedule, prediction, network, guidance);
    }

    /**
     * A fitted coefficient set, run as it was validated: the method's solver on the set's grid, official
     * {@code lower_order_final}, no denoise-to-zero, the grid's own time range.
     */
    public static ExportSubject coefficients(CoefficientSet set, boolean cpr, NoiseSchedule schedule,
                                             PredictionType prediction, boolean network, double guidance) {
        double[] t = set.times();
        SamplerConfig run = new SamplerConfig(MethodCatalog.spec(set), set.spacing(), set.steps(), t[0],
                t[t.length - 1], true, false);
        return new ExportSubject(Kind.COEFFICIENTS, run, t, set, cpr, schedule, prediction, network, guidance);
    }

    /** DPM-Solver-v3 with its statistics; the run covers the statistics' time range. */
    public static ExportSubject dpmSolverV3(DpmSolverV3 spec, TimestepSpacing spacing, int steps,
                                            boolean lowerOrderFinal, boolean denoiseToZero, double[] times,
                                            NoiseSchedule schedule, PredictionType prediction, boolean network,
                                            double guidance) {
        SamplerConfig run = new SamplerConfig(spec, spacing, steps, spec.ems().tStart(), spec.ems().tEnd(),
                lowerOrderFinal, denoiseToZero);
        return new ExportSubject(Kind.DPMSOLVER_V3, run, times, null, false, schedule, prediction, network,
                guidance);
    }

    @Override
    public double[] times() {
        return times.clone();
    }

    /**
     * The run a stock consumer has to reproduce: the baseline itself, or the base solver of a coefficient set whose
     * values are all neutral (it samples exactly as its base, bit for bit); null otherwise.
     */
    public SamplerConfig stockRun() {
        if (kind == Kind.BASELINE) {
            return run;
        }
        if (kind == Kind.COEFFICIENTS && set.isNeutral()) {
            double[] t = set.times();
            return new SamplerConfig(set.base(), new TimestepSpacing.Explicit(t), set.steps(), t[0], t[t.length - 1],
                    true, false);
        }
        return null;
    }

    /** The evaluation plan of {@code config} on this subject's schedule. */
    public EvaluationPlan plan(SamplerConfig config) {
        return EvaluationPlan.of(config, schedule);
    }

    /** The start time of the run. */
    public double tStart() {
        return run.tStart() != null ? run.tStart() : schedule.defaultTStart();
    }

    /** The end time of the run. */
    public double tEnd() {
        return run.tEnd() != null ? run.tEnd() : schedule.defaultTEnd();
    }

    /** Short description of the config's solver, for messages. */
    public String describe() {
        return switch (kind) {
            case BASELINE -> run.solver().label() + " (" + run.spacing().id() + ", " + run.steps() + " steps)";
            case COEFFICIENTS -> set.method().name().toLowerCase(java.util.Locale.ROOT) + " coefficients on "
                    + set.base().label();
            case DPMSOLVER_V3 -> run.solver().label();
        };
    }
}
