package io.solvertune.numerics.coeff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.numerics.schedule.VpLinearSchedule;
import io.solvertune.testing.ReferenceProblem;
import java.io.IOException;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The statistics and integrals of DPM-Solver-v3 off its grid ({@link EmsIntegrals#at(double)},
 * {@link EmsIntegrals#expCoefficient(double, double, int)}): the grid's values at integer positions, the closed forms
 * for planted statistics, convergence as the grid is refined.
 */
class EmsIntegralsFractionalTest {
    static final double LAMBDA_0 = -3.0;
    static final double LAMBDA_1 = 4.0;

    /** Integrals of statistics {@code l, s, b} (functions of lambda, one dimension each) on a uniform grid of K. */
    static EmsIntegrals integrals(int k, DoubleUnaryOperator[] l, DoubleUnaryOperator[] s, DoubleUnaryOperator[] b) {
        int dim = l.length;
        double[] lam = new double[k + 1];
        double[] lv = new double[(k + 1) * dim];
        double[] sv = new double[lv.length];
        double[] bv = new double[lv.length];
        for (int j = 0; j <= k; j++) {
            lam[j] = LAMBDA_0 + (LAMBDA_1 - LAMBDA_0) * j / k;
            for (int d = 0; d < dim; d++) {
                lv[j * dim + d] = l[d].applyAsDouble(lam[j]);
                sv[j * dim + d] = s[d].applyAsDouble(lam[j]);
                bv[j * dim + d] = b[d].applyAsDouble(lam[j]);
            }
        }
        return new EmsIntegrals(lam, dim, lv, sv, bv);
    }

    static DoubleUnaryOperator[] one(DoubleUnaryOperator f) {
        return new DoubleUnaryOperator[] {f};
    }

    @Test
    void integerPositionsAreTheGridBitForBit() throws IOException {
        EmpiricalModelStatistics e = EmsNpz.read(ReferenceProblem.resource("ems_public_gmm_linear_d8"), 1.0, 1e-3);
        EmsIntegrals in = e.integrals(new VpLinearSchedule(0.1, 20.0));
        for (int j = 0; j <= in.steps(); j += 7) {
            EmsIntegrals.At a = in.at(j);
            assertEquals(in.lambda(j), a.lambda(), 0.0);
            assertArrayEquals(in.l(j), a.l(), 0.0);
            assertArrayEquals(in.bigL(j), a.bigL(), 0.0);
            assertArrayEquals(in.bigS(j), a.bigS(), 0.0);
            assertArrayEquals(in.bigI(j), a.bigI(), 0.0);
            assertArrayEquals(in.bigB(j), a.bigB(), 0.0);
            assertArrayEquals(in.bigC(j), a.bigC(), 0.0);
        }
        assertArrayEquals(in.expCoefficient(48, 96, 2), in.expCoefficient(48.0, 96.0, 2), 0.0);
        // a position a hair off a grid point is within the trapezoid's continuity of it
        EmsIntegrals.At near = in.at(96 + 1e-9);
        for (int d = 0; d < in.dim(); d++) {
            assertEquals(in.bigC(96)[d], near.bigC()[d], 1e-9 * Math.abs(in.bigC(96)[d]) + 1e-12);
        }
        double[] e2 = in.expCoefficient(48.0, 96.0 + 1e-9, 2);
        double[] g2 = in.expCoefficient(48, 96, 2);
        for (int d = 0; d < in.dim(); d++) {
            assertEquals(g2[d], e2[d], 1e-8 * Math.abs(g2[d]));
        }
        // the position of a grid lambda is its index; outside the range is refused
        assertEquals(120.0, in.position(in.lambda(120), 1e-9), 0.0);
        assertEquals(0.0, in.position(in.lambda(0) - 1e-14, 1e-9), 0.0);
        assertThrows(IllegalArgumentException.class, () -> in.position(in.lambda(0) - 1.0, 1e-9));
        assertThrows(IllegalArgumentException.class, () -> in.at(-0.5));
        assertThrows(IllegalArgumentException.class, () -> in.at(in.steps() + 0.5));
        assertThrows(IllegalArgumentException.class, () -> in.expCoefficient(50.5, 40.0, 1));
    }

    @Test
    void linearStatisticsGiveTheClosedFormsAtFractionalPositions() {
        // l = 0.7 + 0.2 (lambda - lambda_0), s = -0.3 + 0.1 (lambda - lambda_0), b = 0.5 - 0.25 (lambda - lambda_0)
        int k = 40;
        EmsIntegrals in = integrals(k, one(x -> 0.7 + 0.2 * (x - LAMBDA_0)), one(x -> -0.3 + 0.1 * (x - LAMBDA_0)),
                one(x -> 0.5 - 0.25 * (x - LAMBDA_0)));
        // s = 0, l = 0: B = int b and I = int 1 are linear, so the trapezoid is exact
        EmsIntegrals flat = integrals(k, one(x -> 0.0), one(x -> 0.0), one(x -> 0.5 - 0.25 * (x - LAMBDA_0)));
        for (double u : new double[] {0.37, 3.5, 17.123, 39.999, 25.0}) {
            double x = u * (LAMBDA_1 - LAMBDA_0) / k;   // lambda - lambda_0
            EmsIntegrals.At a = in.at(u);
            assertEquals(LAMBDA_0 + x, a.lambda(), 1e-13);
            assertEquals(0.7 + 0.2 * x, a.l()[0], 1e-13, "l interpolated linearly");
            assertEquals(0.7 * x + 0.1 * x * x, a.bigL()[0], 1e-12, "L = int l");
            assertEquals(-0.3 * x + 0.05 * x * x, a.bigS()[0], 1e-12, "S = int s");
            EmsIntegrals.At f = flat.at(u);
            assertEquals(0.5 * x - 0.125 * x * x, f.bigB()[0], 1e-12, "B = int b");
            assertEquals(x, f.bigI()[0], 1e-12, "I = int e^0");
        }
    }

    @Test
    void constantStatisticsMatchTheClosedFormsToTheTrapezoidError() {
        // l = c, s = 0, b = beta: L = c x, I = (e^{cx} - 1)/c, B = beta x, C = beta (x e^{cx}/c - (e^{cx} - 1)/c^2),
        // E_1(x_s, x_t) = e^{-c x_s} int_{x_s}^{x_t} e^{c y} (y - x_s) dy = H e^{cH}/c - (e^{cH} - 1)/c^2, H = x_t - x_s
        double c = 0.8;
        double beta = 0.3;
        for (int k : new int[] {50, 400}) {
            EmsIntegrals in = integrals(k, one(x -> c), one(x -> 0.0), one(x -> beta));
            double dl = (LAMBDA_1 - LAMBDA_0) / k;
            for (double u : new double[] {k * 0.1234, k * 0.5 + 0.5, k - 0.25}) {
                double x = u * dl;
                EmsIntegrals.At a = in.at(u);
                double ecx = Math.exp(c * x);
                // trapezoid error bound: x dl^2 / 12 max|f''|
                double tolI = x * dl * dl / 12 * c * c * ecx;
                assertEquals(c * x, a.bigL()[0], 1e-12);
                assertEquals(beta * x, a.bigB()[0], 1e-12);
                assertEquals(Math.expm1(c * x) / c, a.bigI()[0], tolI + 1e-12, "I at " + u);
                double cExact = beta * (x * ecx / c - Math.expm1(c * x) / (c * c));
                assertEquals(cExact, a.bigC()[0], beta * x * dl * dl / 12 * (c * c * x + 2 * c) * ecx + tolI * beta
                        * x + 1e-12, "C at " + u);
            }
            double uS = k * 0.2 + 0.3;
            double uT = k * 0.7 + 0.6;
            double h = (uT - uS) * dl;
            double e1 = h * Math.exp(c * h) / c - Math.expm1(c * h) / (c * c);
            double got = in.expCoefficient(uS, uT, 1)[0];
            assertEquals(e1, got, h * dl * dl / 12 * (c * c * h + 2 * c) * Math.exp(c * h) + 1e-12, "E_1, K = " + k);
            assertTrue(Math.abs(got - e1) < 2e-3 * e1, "E_1 close, K = " + k);
            // within one interval
            double inside = in.expCoefficient(10.2, 10.7, 1)[0];
            double hi = 0.5 * dl;
            assertEquals(hi * Math.exp(c * hi) / c - Math.expm1(c * hi) / (c * c), inside, hi * hi * hi * c * 2);
        }
    }

    @Test
    void interpolationErrorShrinksAsTheGridIsRefined() {
        DoubleUnaryOperator[] l = {x -> 0.9 + 0.15 * Math.sin(1.3 * x), x -> 1.0 - 0.1 * x * x / 16};
        DoubleUnaryOperator[] s = {x -> 0.2 * Math.cos(x), x -> -0.05 * x};
        DoubleUnaryOperator[] b = {x -> 0.3 * Math.sin(0.7 * x) + 0.1, x -> 0.02 * x * x};
        EmsIntegrals fine = integrals(25_600, l, s, b);
        double lamS = -1.2345;
        double lamT = 2.71828;
        double prev = Double.POSITIVE_INFINITY;
        for (int k : new int[] {25, 50, 100, 200, 400}) {
            EmsIntegrals in = integrals(k, l, s, b);
            double uS = in.position(lamS, 0.0);
            double uT = in.position(lamT, 0.0);
            assertTrue(uS != Math.rint(uS) && uT != Math.rint(uT), "off the grid at K = " + k);
            double err = 0.0;
            EmsIntegrals.At a = in.at(uT);
            EmsIntegrals.At ref = fine.at(fine.position(lamT, 0.0));
            for (int d = 0; d < 2; d++) {
                err = Math.max(err, Math.abs(a.l()[d] - ref.l()[d]));
                err = Math.max(err, Math.abs(a.bigL()[d] - ref.bigL()[d]));
                err = Math.max(err, Math.abs(a.bigS()[d] - ref.bigS()[d]));
                err = Math.max(err, Math.abs(a.bigI()[d] - ref.bigI()[d]) / Math.abs(ref.bigI()[d]));
                err = Math.max(err, Math.abs(a.bigB()[d] - ref.bigB()[d]));
                err = Math.max(err, Math.abs(a.bigC()[d] - ref.bigC()[d]) / Math.abs(ref.bigC()[d]));
                for (int order = 1; order <= 2; order++) {
                    double e = in.expCoefficient(uS, uT, order)[d];
                    double r = fine.expCoefficient(fine.position(lamS, 0.0), fine.position(lamT, 0.0), order)[d];
                    err = Math.max(err, Math.abs(e - r) / Math.abs(r));
                }
            }
            System.out.printf("EMS interpolation, K = %d: max error %.3e%n", k, err);
            assertTrue(err < prev / 3, "K = " + k + ": error " + err + " not below a third of " + prev + " (second order: a quarter)");
            prev = err;
        }
        assertTrue(prev < 1e-3, "K = 400: " + prev);
    }
}
