package io.solvertune.numerics.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.EdmSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.RectifiedFlowSchedule;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Conversions between parameterisations at random {@code (x0, eps)} with {@code x = alpha x0 + sigma eps}: every type's
 * analytic value (computed here on the host from x0, eps, alpha, sigma and their time derivatives) converts to every
 * other type's analytic value, in float64.
 */
class PredictionTypeTest {
    static final int B = 4;
    static final int D = 5;
    /**
     * Relative accuracy demanded of every conversion. A conversion is a linear combination {@code A x + C out} (A, C
     * derived below from the analytic relations); in double it is exact up to a few ulp of the larger term
     * {@code |A x| + |C out|}, which can exceed the result when the terms cancel (e.g. data -> score at
     * sigma = 1e-3: (x - alpha x0) / sigma^2). So the tolerance is 1e-12 times max(1, |expected|, |A x| + |C out|):
     * ~100x above the rounding bound, and still far below the O(1) error of any wrong coefficient or sign.
     */
    static final double TOL = 1e-12;
    static NDManager base;

    @BeforeAll
    static void init() {
        base = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        base.close();
    }

    static Stream<Arguments> points() {
        NoiseSchedule sd = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000);
        NoiseSchedule ddpm = VpDiscreteSchedule.preset(BetaSchedule.LINEAR, 1000);
        NoiseSchedule lin = VpLinearSchedule.standard();
        NoiseSchedule edm = EdmSchedule.standard();
        NoiseSchedule rf = new RectifiedFlowSchedule(3.0);
        return Stream.of(
                Arguments.of("sd", sd, 0.001), Arguments.of("sd", sd, 0.3), Arguments.of("sd", sd, 1.0),
                Arguments.of("ddpm", ddpm, 0.0503), Arguments.of("ddpm", ddpm, 1.0),
                Arguments.of("vp_linear", lin, 1e-3), Arguments.of("vp_linear", lin, 0.47), Arguments.of("vp_linear", lin, 1.0),
                Arguments.of("edm", edm, 0.002), Arguments.of("edm", edm, 1.3), Arguments.of("edm", edm, 80.0),
                Arguments.of("rf", rf, 0.001), Arguments.of("rf", rf, 0.5), Arguments.of("rf", rf, 0.99));
    }

    /** Analytic value of each type at (x0, eps). */
    static double[][] analytic(PredictionType type, double[][] x0, double[][] eps, NoiseSchedule s, double t) {
        double a = s.alpha(t);
        double sg = s.sigma(t);
        double da = s.dAlphaDt(t);
        double ds = s.dSigmaDt(t);
        double[][] out = new double[x0.length][x0[0].length];
        for (int i = 0; i < x0.length; i++) {
            for (int j = 0; j < x0[0].length; j++) {
                double d = x0[i][j];
                double e = eps[i][j];
                out[i][j] = switch (type) {
                    case NOISE -> e;
                    case DATA -> d;
                    case V -> a * e - sg * d;
                    case SCORE -> -e / sg;
                    case FLOW_VELOCITY -> da * d + ds * e;
                };
            }
        }
        return out;
    }

    /** {@code (c_x0, c_eps)} with {@code type = c_x0 x0 + c_eps eps}. */
    static double[] coefficients(PredictionType type, NoiseSchedule s, double t) {
        double a = s.alpha(t);
        double sg = s.sigma(t);
        return switch (type) {
            case NOISE -> new double[] {0, 1};
            case DATA -> new double[] {1, 0};
            case V -> new double[] {-sg, a};
            case SCORE -> new double[] {0, -1 / sg};
            case FLOW_VELOCITY -> new double[] {s.dAlphaDt(t), s.dSigmaDt(t)};
        };
    }

    /**
     * The exact linear map {@code to = A x + C out_from}: with {@code [x; out] = M [x0; eps]},
     * {@code M = [[alpha, sigma], [f_x0, f_eps]]}, it is {@code (A, C) = g M^{-1}}. Returns {@code |A x| + |C out|}
     * element-wise, the magnitude of the terms the conversion combines.
     */
    static double[][] termScale(PredictionType from, PredictionType to, NoiseSchedule s, double t, double[][] x,
                                double[][] out) {
        double[] f = coefficients(from, s, t);
        double[] g = coefficients(to, s, t);
        double a = s.alpha(t);
        double sg = s.sigma(t);
        double det = a * f[1] - sg * f[0];
        // M^{-1} = [[f_eps, -sigma], [-f_x0, alpha]] / det
        double cx = (g[0] * f[1] - g[1] * f[0]) / det;
        double co = (-g[0] * sg + g[1] * a) / det;
        double[][] scale = new double[x.length][x[0].length];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[0].length; j++) {
                scale[i][j] = Math.abs(cx * x[i][j]) + Math.abs(co * out[i][j]);
            }
        }
        return scale;
    }

    static void assertConverted(double[][] expected, double[][] got, double[][] terms, String what) {
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[0].length; j++) {
                double tol = TOL * Math.max(1.0, Math.max(Math.abs(expected[i][j]), terms[i][j]));
                assertEquals(expected[i][j], got[i][j], tol, what + " [" + i + "][" + j + "]");
            }
        }
    }

    @ParameterizedTest(name = "{0} t={2}")
    @MethodSource("points")
    void everyTypeConvertsToEveryOther(String name, NoiseSchedule s, double t) {
        Random r = new Random(Double.hashCode(t) * 31 + name.hashCode());
        double[][] x0 = Host.gaussian(r, B, D, 1.5);
        double[][] eps = Host.gaussian(r, B, D, 1.0);
        double[][] x = new double[B][D];
        for (int i = 0; i < B; i++) {
            for (int j = 0; j < D; j++) {
                x[i][j] = s.alpha(t) * x0[i][j] + s.sigma(t) * eps[i][j];
            }
        }
        try (NDManager m = base.newSubManager()) {
            NDArray xNd = Host.nd(m, x);
            for (PredictionType from : PredictionType.values()) {
                double[][] outHost = analytic(from, x0, eps, s, t);
                for (PredictionType to : PredictionType.values()) {
                    // a fresh input per conversion, so that one conversion cannot spoil the next
                    NDArray out = Host.nd(m, outHost);
                    NDArray conv = from.convert(out, xNd, t, s, to);
                    double[][] expected = analytic(to, x0, eps, s, t);
                    String what = name + " t=" + t + " " + from + " -> " + to;
                    assertConverted(expected, Host.rows(conv), termScale(from, to, s, t, x, outHost), what);
                    if (to == from) {
                        assertSame(out, conv, what + ": same type must return the input");
                    } else {
                        assertEquals(m, conv.getManager(), what + ": result must live on x's manager");
                        // and back: the converted value, read as type `to`, converts to the original type
                        // (on a copy: input closing is conversionLeavesItsInputsOpenAndUnchanged's concern)
                        double[][] convHost = Host.rows(conv);
                        NDArray convCopy = Host.nd(m, convHost);
                        NDArray back = to.convert(convCopy, xNd, t, s, from);
                        assertConverted(outHost, Host.rows(back), termScale(to, from, s, t, x, convHost), what + " -> back");
                        back.close();
                        convCopy.close();
                        conv.close();
                    }
                    out.close();
                }
            }
        }
    }

    /**
     * convert() returns its input for identical types and otherwise a new array; it must never close (or modify)
     * the caller's {@code out} or {@code x}, which the caller still owns.
     */
    @Test
    void conversionLeavesItsInputsOpenAndUnchanged() {
        NoiseSchedule s = VpLinearSchedule.standard();
        double t = 0.4;
        Random r = new Random(3);
        double[][] xv = Host.gaussian(r, B, D, 1.0);
        double[][] ov = Host.gaussian(r, B, D, 1.0);
        try (NDManager m = base.newSubManager()) {
            for (PredictionType from : PredictionType.values()) {
                for (PredictionType to : PredictionType.values()) {
                    NDArray x = Host.nd(m, xv);
                    NDArray out = Host.nd(m, ov);
                    NDArray conv = from.convert(out, x, t, s, to);
                    String what = from + " -> " + to;
                    assertTrue(managed(m, out), what + ": the model output was closed by convert()");
                    assertTrue(managed(m, x), what + ": x was closed by convert()");
                    Host.assertClose(ov, Host.rows(out), 0.0, what + ": model output modified");
                    Host.assertClose(xv, Host.rows(x), 0.0, what + ": x modified");
                    if (conv != out) {
                        conv.close();
                    }
                    out.close();
                    x.close();
                }
            }
        }
    }

    /**
     * Conversions close every intermediate: counted with {@code NDManager.getManagedArrays()} on a sub-manager, the
     * only array a conversion may add is its result (none for identical types), and closing the result restores the
     * count. Inputs are recreated per conversion so that this test counts leaks only (input closing is the previous
     * test's concern).
     */
    @ParameterizedTest(name = "{0} t={2}")
    @MethodSource("points")
    void conversionsDoNotLeakArrays(String name, NoiseSchedule s, double t) {
        Random r = new Random(7);
        double[][] xv = Host.gaussian(r, B, D, 1.0);
        double[][] ov = Host.gaussian(r, B, D, 1.0);
        try (NDManager m = base.newSubManager()) {
            for (PredictionType from : PredictionType.values()) {
                for (PredictionType to : PredictionType.values()) {
                    NDArray x = Host.nd(m, xv);
                    NDArray out = Host.nd(m, ov);
                    int before = m.getManagedArrays().size();
                    NDArray conv = from.convert(out, x, t, s, to);
                    boolean inputsOpen = managed(m, out);
                    int created = m.getManagedArrays().size() - before + (inputsOpen ? 0 : 1);
                    assertEquals(from == to ? 0 : 1, created, from + " -> " + to + ": arrays created and kept");
                    if (conv != out) {
                        conv.close();
                    }
                    out.close();
                    x.close();
                    assertEquals(0, m.getManagedArrays().size(), from + " -> " + to + ": arrays left after closing");
                }
            }
        }
    }

    /** Whether {@code a} (by identity) is still an open array of {@code m}. */
    static boolean managed(NDManager m, NDArray a) {
        return m.getManagedArrays().stream().anyMatch(b -> b == a);
    }

    @Test
    void parseAcceptsAliases() {
        assertEquals(PredictionType.NOISE, PredictionType.parse("epsilon"));
        assertEquals(PredictionType.DATA, PredictionType.parse("x_start"));
        assertEquals(PredictionType.DATA, PredictionType.parse("SAMPLE"));
        assertEquals(PredictionType.V, PredictionType.parse("v_prediction"));
        assertEquals(PredictionType.FLOW_VELOCITY, PredictionType.parse("flow"));
        assertEquals(PredictionType.SCORE, PredictionType.parse("score"));
        assertThrows(IllegalArgumentException.class, () -> PredictionType.parse("x1"));
    }
}
