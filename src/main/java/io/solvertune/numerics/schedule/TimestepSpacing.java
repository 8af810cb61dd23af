package io.solvertune.numerics.schedule;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.Arrays;
import java.util.Locale;

/**
 * How the {@code steps + 1} sampling times between {@code tStart} and {@code tEnd} are placed (the official
 * {@code get_time_steps(skip_type, ...)}, plus Karras/EDM and explicit lists). Grids run from {@code tStart}
 * (noisy) to {@code tEnd}.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = TimestepSpacing.TimeUniform.class, name = "time_uniform"),
    @JsonSubTypes.Type(value = TimestepSpacing.LogSnr.class, name = "logSNR"),
    @JsonSubTypes.Type(value = TimestepSpacing.TimeQuadratic.class, name = "time_quadratic"),
    @JsonSubTypes.Type(value = TimestepSpacing.Karras.class, name = "karras"),
    @JsonSubTypes.Type(value = TimestepSpacing.Explicit.class, name = "explicit"),
    @JsonSubTypes.Type(value = TimestepSpacing.PowerTime.class, name = "time_power"),
})
public sealed interface TimestepSpacing {

    /** The {@code steps + 1} times from {@code tStart} to {@code tEnd}. */
    double[] times(NoiseSchedule schedule, double tStart, double tEnd, int steps);

    /** Short name, as in the official code ({@code time_uniform}, {@code logSNR}, ...). */
    String id();

    /**
     * The spacing used for the inner points of a singlestep solver inside one outer interval. The official code
     * re-applies the same skip type; an explicit list has no inner rule and falls back to logSNR.
     */
    default TimestepSpacing innerSpacing() {
        return this;
    }

    /** {@code linspace(tStart, tEnd, steps + 1)} (in the schedule's unshifted time for shifted flows). */
    record TimeUniform() implements TimestepSpacing {
        @Override
        public double[] times(NoiseSchedule s, double tStart, double tEnd, int steps) {
            check(steps, tStart, tEnd);
            double[] u = Linspace.of(s.unwarpUniformTime(tStart), s.unwarpUniformTime(tEnd), steps + 1);
            return warp(s, u, tStart, tEnd);
        }

        @Override
        public String id() {
            return "time_uniform";
        }
    }

    /** Uniform in half log-SNR: {@code inverse_lambda(linspace(lambda(tStart), lambda(tEnd), steps + 1))}. */
    record LogSnr() implements TimestepSpacing {
        @Override
        public double[] times(NoiseSchedule s, double tStart, double tEnd, int steps) {
            check(steps, tStart, tEnd);
            double l0 = s.lambda(tStart);
            double l1 = s.lambda(tEnd);
            if (!Double.isFinite(l0) || !Double.isFinite(l1)) {
                throw new IllegalArgumentException("logSNR spacing needs finite lambda at both ends; lambda(" + tStart
                        + ")=" + l0 + ", lambda(" + tEnd + ")=" + l1);
            }
            double[] lam = Linspace.of(l0, l1, steps + 1);
            double[] t = new double[steps + 1];
            for (int i = 1; i < steps; i++) {
                t[i] = s.inverseLambda(lam[i]);
            }
            t[0] = tStart;   // exact ends (inverse_lambda(lambda(t)) may be off by an ulp)
            t[steps] = tEnd;
            return t;
        }

        @Override
        public String id() {
            return "logSNR";
        }
    }

    /** {@code linspace(sqrt(tStart), sqrt(tEnd), steps + 1)^2}. */
    record TimeQuadratic() implements TimestepSpacing {
        @Override
        public double[] times(NoiseSchedule s, double tStart, double tEnd, int steps) {
            check(steps, tStart, tEnd);
            double[] u = Linspace.of(Math.sqrt(s.unwarpUniformTime(tStart)), Math.sqrt(s.unwarpUniformTime(tEnd)),
                    steps + 1);
            for (int i = 0; i < u.length; i++) {
                u[i] = u[i] * u[i];
            }
            return warp(s, u, tStart, tEnd);
        }

        @Override
        public String id() {
            return "time_quadratic";
        }
    }

    /**
     * Karras et al. (EDM) spacing with exponent {@code rho} on the VE noise level {@code sigma/alpha = e^{-lambda}}:
     * {@code sigma_i = (sigma_max^{1/rho} + i/N (sigma_min^{1/rho} - sigma_max^{1/rho}))^rho}, i = 0..N, mapped back to
     * time. Ends exactly at tStart and tEnd (no appended zero).
     */
    record Karras(double rho) implements TimestepSpacing {
        public Karras {
            if (!(rho > 0.0) || Double.isInfinite(rho)) {
                throw new IllegalArgumentException("karras spacing needs rho > 0, got " + rho);
            }
        }

        @Override
        public double[] times(NoiseSchedule s, double tStart, double tEnd, int steps) {
            check(steps, tStart, tEnd);
            double lMax = s.lambda(tStart);
            double lMin = s.lambda(tEnd);
            if (!Double.isFinite(lMax) || !Double.isFinite(lMin)) {
                throw new IllegalArgumentException("karras spacing needs finite noise levels at both ends; lambda("
                        + tStart + ")=" + lMax + ", lambda(" + tEnd + ")=" + lMin);
            }
            double a = Math.exp(-lMax / rho);
            double b = Math.exp(-lMin / rho);
            double[] t = new double[steps + 1];
            t[0] = tStart;
            t[steps] = tEnd;
            for (int i = 1; i < steps; i++) {
                double root = a + (double) i / steps * (b - a);
                double lambda = -rho * Math.log(root);
                t[i] = s.inverseLambda(lambda);
            }
            return t;
        }

        @Override
        public String id() {
            return "karras";
        }
    }

    /**
     * Karras-style spacing on the time axis itself (for discrete schedules: the DDPM timestep axis, t = (n+1)/N):
     * {@code t_i = (tStart^{1/rho} + i/N (tEnd^{1/rho} - tStart^{1/rho}))^rho}. rho = 1 is time_uniform, rho = 2 is
     * time_quadratic; "Hyperparameters are all you need" (arXiv 2510.02390) uses rho ~ 1.2 on DDPM timesteps.
     */
    record PowerTime(double rho) implements TimestepSpacing {
        public PowerTime {
            if (!(rho > 0.0) || Double.isInfinite(rho)) {
                throw new IllegalArgumentException("time_power spacing needs rho > 0, got " + rho);
            }
        }

        @Override
        public double[] times(NoiseSchedule s, double tStart, double tEnd, int steps) {
            check(steps, tStart, tEnd);
            double a = Math.pow(s.unwarpUniformTime(tStart), 1.0 / rho);
            double b = Math.pow(s.unwarpUniformTime(tEnd), 1.0 / rho);
            double[] u = new double[steps + 1];
            for (int i = 0; i <= steps; i++) {
                u[i] = Math.pow(a + (double) i / steps * (b - a), rho);
            }
            return warp(s, u, tStart, tEnd);
        }

        @Override
        public String id() {
            return "time_power";
        }
    }

    /** A user-given list of {@code steps + 1} strictly decreasing times (tStart/tEnd are its ends). */
    record Explicit(double[] timesteps) implements TimestepSpacing {
        public Explicit {
            if (timesteps == null || timesteps.length < 2) {
                throw new IllegalArgumentException("explicit spacing needs at least 2 times");
            }
            for (int i = 0; i < timesteps.length; i++) {
                if (!Double.isFinite(timesteps[i]) || !(timesteps[i] > 0.0)) {
                    throw new IllegalArgumentException("explicit timesteps must be positive and finite; index " + i
                            + " is " + timesteps[i]);
                }
                if (i > 0 && !(timesteps[i] < timesteps[i - 1])) {
                    throw new IllegalArgumentException("explicit timesteps must decrease strictly; index " + i
                            + " (" + timesteps[i] + ") does not");
                }
            }
            timesteps = timesteps.clone();
        }

        @Override
        public double[] timesteps() {
            return timesteps.clone();
        }

        @Override
        public double[] times(NoiseSchedule s, double tStart, double tEnd, int steps) {
            if (steps + 1 != timesteps.length) {
                throw new IllegalArgumentException("explicit spacing has " + timesteps.length + " times, which is "
                        + (timesteps.length - 1) + " steps, but " + steps + " steps were requested");
            }
            return timesteps.clone();
        }

        @Override
        public TimestepSpacing innerSpacing() {
            return new LogSnr();
        }

        @Override
        public String id() {
            return "explicit";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Explicit e && Arrays.equals(timesteps, e.timesteps);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(timesteps);
        }

        @Override
        public String toString() {
            return "Explicit" + Arrays.toString(timesteps);
        }
    }

    /** Parses a spacing name; {@code karras} takes {@code rho}. Explicit lists are built directly. */
    static TimestepSpacing named(String name, double rho) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "time_uniform", "uniform" -> new TimeUniform();
            case "logsnr" -> new LogSnr();
            case "time_quadratic", "quadratic" -> new TimeQuadratic();
            case "karras", "edm" -> new Karras(rho);
            case "time_power", "power" -> new PowerTime(rho);
            default -> throw new IllegalArgumentException("unknown spacing '" + name
                    + "' (expected time_uniform, logSNR, time_quadratic, karras, time_power or an explicit list)");
        };
    }

    private static void check(int steps, double tStart, double tEnd) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        if (!(tStart > tEnd) || !(tEnd > 0.0) || !Double.isFinite(tStart)) {
            throw new IllegalArgumentException("need tStart > tEnd > 0, got tStart=" + tStart + ", tEnd=" + tEnd);
        }
    }

    private static double[] warp(NoiseSchedule s, double[] u, double tStart, double tEnd) {
        double[] t = new double[u.length];
        for (int i = 0; i < u.length; i++) {
            t[i] = s.warpUniformTime(u[i]);
        }
        t[0] = tStart;   // exact ends (sqrt/square round trips and warps may be off by an ulp)
        t[t.length - 1] = tEnd;
        return t;
    }
}
