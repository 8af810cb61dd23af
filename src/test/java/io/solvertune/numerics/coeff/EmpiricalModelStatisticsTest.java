package io.solvertune.numerics.coeff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.solvertune.numerics.schedule.BetaSchedule;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.VpDiscreteSchedule;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import io.solvertune.testing.ReferenceProblem;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class EmpiricalModelStatisticsTest {

    static double[] filled(int n, double v) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }

    static double[] ramp(int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = 0.5 + 0.001 * i;
        }
        return a;
    }

    static String message(Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }

    @Test
    void validationNamesTheProblem() {
        long[] shape = {4};
        int n = 11 * 4; // K = 10
        double[] ok = ramp(n);
        assertDoesNotThrow(() -> EmpiricalModelStatistics.of(1.0, 1e-3, shape, ok, ok, ok));

        double[] nan = ramp(n);
        nan[3 * 4 + 2] = Double.NaN;
        String m = message(() -> EmpiricalModelStatistics.of(1.0, 1e-3, shape, ok, nan, ok));
        assertTrue(m.contains("s is NaN") && m.contains("grid index 3") && m.contains("element 2"), m);
        double[] inf = ramp(n);
        inf[0] = Double.POSITIVE_INFINITY;
        m = message(() -> EmpiricalModelStatistics.of(1.0, 1e-3, shape, inf, ok, ok));
        assertTrue(m.contains("l is Infinity"), m);

        // K + 1 of sb differs from l
        m = message(() -> EmpiricalModelStatistics.of(1.0, 1e-3, shape, ok, ramp(10 * 4), ok));
        assertTrue(m.contains("s has 10 grid points") && m.contains("K + 1 = 11"), m);
        m = message(() -> EmpiricalModelStatistics.of(1.0, 1e-3, shape, ok, ok, ramp(n + 1)));
        assertTrue(m.contains("b has") && m.contains("not a multiple"), m);
        m = message(() -> EmpiricalModelStatistics.of(1.0, 1e-3, new long[] {3}, ok, ok, ok));
        assertTrue(m.contains("(K + 1) x 3"), m);
        m = message(() -> EmpiricalModelStatistics.of(1.0, 1e-3, new long[] {0, 4}, ok, ok, ok));
        assertTrue(m.contains("non-positive"), m);
        m = message(() -> EmpiricalModelStatistics.of(1e-3, 1.0, shape, ok, ok, ok));
        assertTrue(m.contains("tStart > tEnd"), m);
        m = message(() -> EmpiricalModelStatistics.of(1.0, 1e-3, shape, ramp(4), ramp(4), ramp(4)));
        assertTrue(m.contains("K >= 1"), m);
    }

    @Test
    void sampleShapeCompatibility() {
        EmpiricalModelStatistics e = EmpiricalModelStatistics.of(1.0, 1e-3, new long[] {8, 1, 1}, ramp(16), ramp(16),
                ramp(16));
        assertDoesNotThrow(() -> e.requireCompatible(new long[] {8}));
        assertDoesNotThrow(() -> e.requireCompatible(new long[] {8, 1, 1}));
        assertDoesNotThrow(() -> e.requireCompatible(new long[] {1, 8}));
        String m = message(() -> e.requireCompatible(new long[] {32}));
        assertTrue(m.contains("[8, 1, 1]") && m.contains("[32]"), m);
        assertThrows(IllegalArgumentException.class, () -> e.requireCompatible(new long[] {2, 4}));
    }

    @Test
    void isAnImmutableValue() {
        double[] l = ramp(12);
        EmpiricalModelStatistics e = EmpiricalModelStatistics.of(1.0, 1e-3, new long[] {2, 2}, l, ramp(12), ramp(12));
        EmpiricalModelStatistics same = EmpiricalModelStatistics.of(1.0, 1e-3, new long[] {2, 2}, ramp(12), ramp(12),
                ramp(12));
        l[0] = 99;
        assertEquals(0.5, e.l(0, 0));
        e.l()[1] = 99;
        assertEquals(0.501, e.l(0, 1));
        assertEquals(e, same);
        assertEquals(e.hashCode(), same.hashCode());
        assertNotEquals(e, same.withProvenance(null, "other"));
        assertEquals(2, e.gridSteps());
        assertEquals(4, e.sampleSize());
        assertSame(e.degenerated(), e.degenerated());
        assertEquals(1.0, e.degenerated().l(2, 3));
        assertEquals(0.0, e.degenerated().s(2, 3));
        assertEquals(0.0, e.degenerated().b(2, 3));
    }

    @Test
    void serializesAsMetadata() {
        EmpiricalModelStatistics e = EmpiricalModelStatistics.of(1.0, 1e-3, new long[] {2, 2}, ramp(12), ramp(12),
                ramp(12)).withProvenance(new VpLinearSchedule(0.1, 20.0).spec(), "test");
        JsonNode json = new ObjectMapper().valueToTree(e);
        assertEquals(2, json.get("gridSteps").asInt());
        assertEquals("logSNR_uniform", json.get("grid").asText());
        assertEquals("vp_linear", json.get("schedule").get("type").asText());
        assertEquals(e.metadata(), EmsMetadata.fromJson(json.toString()));
    }

    @Test
    void degenerateIntegralsAreExactOrSecondOrder() {
        NoiseSchedule ns = VpDiscreteSchedule.preset(BetaSchedule.SCALED_LINEAR, 1000);
        int k = 200;
        EmpiricalModelStatistics e = EmpiricalModelStatistics.degenerate(new EmsGrid(k, 1.0, 1e-3), new long[] {3});
        EmsIntegrals in = e.integrals(ns);
        assertSame(in, e.integrals(ns), "cached per schedule grid");
        double[] lam = in.lambdas();
        assertEquals(ns.lambda(1.0), lam[0], 1e-12);
        assertEquals(ns.lambda(1e-3), lam[k], 1e-12);
        double dl = (lam[k] - lam[0]) / k;
        for (int j = 0; j <= k; j += 25) {
            assertEquals(lam[j] - lam[0], in.bigL(j)[1], 1e-12, "L = lambda - lambda_T");
            assertEquals(0.0, in.bigS(j)[1]);
            assertEquals(0.0, in.bigB(j)[1]);
            assertEquals(0.0, in.bigC(j)[1]);
            double exact = Math.expm1(lam[j] - lam[0]);
            // trapezoid error of int e^x: (b - a) dl^2 / 12 max e^x
            assertEquals(exact, in.bigI(j)[2], (lam[j] - lam[0]) * dl * dl / 12 * Math.exp(lam[j] - lam[0]) + 1e-12);
        }
        // E_1 from index 40 to 90: int_0^H e^u u du = H e^H - e^H + 1
        double h = lam[90] - lam[40];
        double exact = h * Math.exp(h) - Math.expm1(h);
        double e1 = in.expCoefficient(40, 90, 1)[0];
        assertEquals(exact, e1, h * dl * dl / 12 * Math.exp(h) * (1 + h) * 2);
        assertTrue(Math.abs(exact - e1) > 0, "a trapezoid sum, not the closed form");
        assertEquals(0.0, in.expCoefficient(40, 40, 2)[0]);
        assertThrows(IllegalArgumentException.class, () -> in.expCoefficient(50, 40, 1));
    }

    @Test
    void integralsMatchTheOfficialTrapezoidRule() throws IOException {
        // values of the official numpy weighted_cumsumexp_trapezoid / compute_exponential_coefficients_high_order on
        // ems_public_gmm_linear_d8 (computed with a numpy port of dpm_solver_v3.py)
        EmpiricalModelStatistics e = EmsNpz.read(ReferenceProblem.resource("ems_public_gmm_linear_d8"), 1.0, 1e-3);
        EmsIntegrals in = e.integrals(new VpLinearSchedule(0.1, 20.0));
        assertEquals(61811.504638366, in.bigI(240)[0], 1e-10 * 61811.5);
        assertEquals(81681.79087579732, in.bigC(240)[3], 1e-10 * 81681.8);
        assertEquals(0.9430522219630554, in.bigB(120)[5], 1e-11);
        assertEquals(6.783670536127757, in.bigL(200)[2], 1e-11);
        assertEquals(-0.5708715740582966, in.bigS(240)[7], 1e-11);
        assertEquals(22.78630179253552, in.expCoefficient(48, 96, 2)[1], 1e-10 * 22.8);
        assertEquals(33.10303910237662, in.expCoefficient(0, 48, 1)[6], 1e-10 * 33.1);
        assertArrayEquals(e.l(), flatten(in), 0.0);
    }

    private static double[] flatten(EmsIntegrals in) {
        double[] out = new double[(in.steps() + 1) * in.dim()];
        for (int j = 0; j <= in.steps(); j++) {
            System.arraycopy(in.l(j), 0, out, j * in.dim(), in.dim());
        }
        return out;
    }
}
