package io.solvertune.numerics.model;

import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.nd.Lin;
import io.solvertune.numerics.schedule.NoiseSchedule;
import java.util.Locale;

/**
 * What a network predicts, and the conversions between the parameterisations at a point {@code (x, t)} of a
 * schedule with {@code x = alpha x0 + sigma eps}.
 */
public enum PredictionType {
    /** The noise {@code eps} ("epsilon"). */
    NOISE("noise"),
    /** The clean sample {@code x0} ("x_start", "sample"). */
    DATA("data"),
    /** {@code v = alpha eps - sigma x0} (Salimans and Ho). */
    V("v"),
    /** The score {@code grad log p_t(x) = -eps / sigma}. */
    SCORE("score"),
    /** The flow velocity {@code dx/dt = alpha' x0 + sigma' eps} (rectified flow: {@code eps - x0}). */
    FLOW_VELOCITY("flow_velocity");

    private final String id;

    PredictionType(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** Parses {@code noise|epsilon|eps}, {@code data|x0|x_start|sample}, {@code v|v_prediction}, {@code score}, {@code flow_velocity|flow}. */
    public static PredictionType parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "noise", "epsilon", "eps" -> NOISE;
            case "data", "x0", "x_start", "sample" -> DATA;
            case "v", "v_prediction" -> V;
            case "score" -> SCORE;
            case "flow_velocity", "flow", "velocity", "flow_prediction" -> FLOW_VELOCITY;
            default -> throw new IllegalArgumentException("unknown prediction type '" + s
                    + "' (expected noise, data, v, score or flow_velocity)");
        };
    }

    /**
     * Converts a model output {@code out} of this type at {@code (x, t)} to {@code target}. Returns {@code out}
     * itself when the types agree; otherwise a new array attached to {@code x}'s manager.
     */
    public NDArray convert(NDArray out, NDArray x, double t, NoiseSchedule s, PredictionType target) {
        if (target == this) {
            return out;
        }
        return switch (target) {
            case NOISE -> toNoise(out, x, t, s);
            case DATA -> toData(out, x, t, s);
            default -> {
                NDArray eps = toNoise(out, x, t, s);
                NDArray r = NOISE.fromNoise(eps, x, t, s, target);
                if (eps != out) {
                    eps.close();
                }
                yield r;
            }
        };
    }

    private NDArray toNoise(NDArray out, NDArray x, double t, NoiseSchedule s) {
        double a = s.alpha(t);
        double sg = s.sigma(t);
        return switch (this) {
            case NOISE -> out;
            case DATA -> Lin.of(1.0 / sg, x, -a / sg, out);                          // (x - a x0) / sigma
            case V -> {
                double d = norm2(a, sg);
                yield Lin.of(a / d, out, sg / d, x);                                // (a v + sigma x) / (a² + sigma²)
            }
            case SCORE -> out.mul(-sg);                                             // -sigma score
            case FLOW_VELOCITY -> {
                double da = s.dAlphaDt(t);
                double ds = s.dSigmaDt(t);
                double det = a * ds - sg * da;
                yield Lin.of(a / det, out, -da / det, x);                           // (a u - a' x) / (a sigma' - sigma a')
            }
        };
    }

    private NDArray toData(NDArray out, NDArray x, double t, NoiseSchedule s) {
        double a = s.alpha(t);
        double sg = s.sigma(t);
        return switch (this) {
            case DATA -> out;
            case NOISE -> Lin.of(1.0 / a, x, -sg / a, out);                          // (x - sigma eps) / alpha
            case V -> {
                double d = norm2(a, sg);
                yield Lin.of(a / d, x, -sg / d, out);                               // (a x - sigma v) / (a² + sigma²)
            }
            case SCORE -> Lin.of(1.0 / a, x, sg * sg / a, out);                      // (x + sigma² score) / alpha
            case FLOW_VELOCITY -> {
                double da = s.dAlphaDt(t);
                double ds = s.dSigmaDt(t);
                double det = a * ds - sg * da;
                yield Lin.of(ds / det, x, -sg / det, out);                          // (sigma' x - sigma u) / det
            }
        };
    }

    /** From noise to this type. */
    private NDArray fromNoise(NDArray eps, NDArray x, double t, NoiseSchedule s, PredictionType target) {
        double a = s.alpha(t);
        double sg = s.sigma(t);
        return switch (target) {
            // v = a eps - sigma x0 with x0 = (x - sigma eps)/a  =>  v = (a + sigma²/a) eps - (sigma/a) x
            case V -> Lin.of(a + sg * sg / a, eps, -sg / a, x);
            case SCORE -> eps.mul(-1.0 / sg);
            case FLOW_VELOCITY -> {
                double da = s.dAlphaDt(t);
                double ds = s.dSigmaDt(t);
                // u = a' x0 + sigma' eps with x0 = (x - sigma eps)/a
                yield Lin.of(ds - da * sg / a, eps, da / a, x);
            }
            default -> throw new AssertionError(target);
        };
    }

    private static double norm2(double a, double s) {
        double d = a * a + s * s;
        return Math.abs(d - 1.0) < 1e-12 ? 1.0 : d;
    }

}
