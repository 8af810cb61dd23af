package io.solvertune.tuning.fit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.testing.ReferenceProblem;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cascade polynomial regression: the official SD 2.1 coefficients, planted recovery, file round trip. */
class CascadePolynomialRegressionTest {
    @TempDir
    Path dir;

    @Test
    void officialSd21CoefficientsGiveThePublishedRatios() throws IOException {
        CascadePolynomialRegression cpr = CascadePolynomialRegression.load(ReferenceProblem.resource("sd2.1.npy"));
        assertArrayEquals(new double[] {1, 1, 1.0271, 0.7392, 1.2263}, cpr.predict(5, 7.5), 5e-5);
        assertArrayEquals(new double[] {1, 1, 0.4446, 0.8980, 1.0628, 1.0426, 0.9408, 0.8610, 0.9068, 1.1816},
                cpr.predict(10, 7.5), 5e-5);
        Path out = dir.resolve("copy.npy");
        cpr.save(out);
        assertEquals(cpr, CascadePolynomialRegression.load(out));
    }

    @Test
    void plantedCoefficientsAreRecoveredFromRatiosOnAGrid() {
        Random rnd = new Random(3);
        double[] c = new double[36];
        for (int i = 0; i < 36; i++) {
            c[i] = rnd.nextGaussian();
        }
        CascadePolynomialRegression planted = new CascadePolynomialRegression(c);
        List<CascadePolynomialRegression.Sample> samples = new ArrayList<>();
        for (int nfe : new int[] {5, 6, 8, 10, 15, 20}) {
            for (double g : new double[] {1.0, 3.0, 5.0, 7.5, 10.0}) {
                samples.add(new CascadePolynomialRegression.Sample(nfe, g, planted.predict(nfe, g)));
            }
        }
        CascadePolynomialRegression.Fit fit = CascadePolynomialRegression.fit(samples);
        assertTrue(fit.rmsResidual() < 1e-10, "rms " + fit.rmsResidual());
        assertArrayEquals(c, fit.model().coefficients(), 1e-6, "condition number " + fit.conditionNumber());
        assertEquals(samples.stream().mapToInt(s -> s.nfe() - 2).sum(), fit.points());

        // noisy ratios: the fit's residual is about the noise level
        List<CascadePolynomialRegression.Sample> noisy = new ArrayList<>();
        for (CascadePolynomialRegression.Sample s : samples) {
            double[] r = s.ratios();
            for (int i = 2; i < r.length; i++) {
                r[i] += 1e-3 * rnd.nextGaussian();
            }
            noisy.add(new CascadePolynomialRegression.Sample(s.nfe(), s.guidance(), r));
        }
        CascadePolynomialRegression.Fit nf = CascadePolynomialRegression.fit(noisy);
        assertTrue(nf.rmsResidual() < 1e-3 && nf.rmsResidual() > 5e-4, "rms " + nf.rmsResidual());
    }

    @Test
    void badInputNamesTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CascadePolynomialRegression(new double[35]));
        assertTrue(e.getMessage().contains("36"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new CascadePolynomialRegression.Sample(5, 7.5, new double[4]));
        assertTrue(e.getMessage().contains("ratios"), e.getMessage());
        // one guidance scale only: the guidance terms are not determined
        List<CascadePolynomialRegression.Sample> one = new ArrayList<>();
        for (int nfe = 5; nfe <= 20; nfe++) {
            double[] r = new double[nfe];
            java.util.Arrays.fill(r, 1.0);
            one.add(new CascadePolynomialRegression.Sample(nfe, 7.5, r));
        }
        e = assertThrows(IllegalArgumentException.class, () -> CascadePolynomialRegression.fit(one));
        assertTrue(e.getMessage().contains("guidance"), e.getMessage());
    }
}
