package io.solvertune.tuning.fit;

import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.SingularValueDecomposition;

/**
 * DC-Solver's cascade polynomial regression (wl-zhao/DC-Solver, diffusers {@code cascade_polynomial_regression}):
 * ratios for any (NFE, guidance) from 36 coefficients {@code C[p][q][k]} (shape (4, 3, 3), row-major as the official
 * {@code .npy}). With {@code x = step / NFE} (1-based step), {@code g = guidance / 12}, {@code n = NFE / 50}:
 * {@code c1[p][q] = C[p][q][0] n^2 + C[p][q][1] n + C[p][q][2]}, {@code c2[p] = c1[p][0] g^2 + c1[p][1] g + c1[p][2]},
 * {@code ratio(step) = sum_p c2[p] x^p}; steps 1 and 2 get 1.
 *
 * <p>Fitting: the ratio is linear in the 36 coefficients, {@code ratio = sum_{pqk} C[p][q][k] x^p g^(2-q) n^(2-k)},
 * so the nested polynomial fit is one joint linear least-squares problem over every free step (3rd on) of every
 * given (NFE, guidance) configuration, solved by SVD. It needs full rank: at least three distinct NFE values, three
 * distinct guidance scales and four free steps among the configurations of each.
 */
public record CascadePolynomialRegression(double[] coefficients) {
    /** Number of coefficients (4 x 3 x 3). */
    public static final int SIZE = 36;
    static final double GUIDANCE_SCALE = 12.0;
    static final double NFE_SCALE = 50.0;
    /** 1-based first step whose ratio is predicted. */
    static final int FIRST_FREE_STEP = 3;

    public CascadePolynomialRegression {
        if (coefficients == null || coefficients.length != SIZE) {
            throw new IllegalArgumentException("cpr: coefficients must hold 36 values (shape 4 x 3 x 3), got "
                    + (coefficients == null ? "none" : coefficients.length));
        }
        for (int i = 0; i < SIZE; i++) {
            if (!Double.isFinite(coefficients[i])) {
                throw new IllegalArgumentException("cpr: coefficients[" + i + "] is not finite");
            }
        }
        coefficients = coefficients.clone();
    }

    @Override
    public double[] coefficients() {
        return coefficients.clone();
    }

    /** The ratios of all {@code nfe} steps at guidance scale {@code guidance} (1 for steps 1 and 2). */
    public double[] predict(int nfe, double guidance) {
        if (nfe < 1) {
            throw new IllegalArgumentException("cpr: nfe must be >= 1, got " + nfe);
        }
        if (!Double.isFinite(guidance)) {
            throw new IllegalArgumentException("cpr: guidance must be finite");
        }
        double[] r = new double[nfe];
        for (int step = 1; step <= nfe; step++) {
            r[step - 1] = step < FIRST_FREE_STEP ? 1.0 : ratio(step, nfe, guidance);
        }
        return r;
    }

    /** The cascade at one step, in the official evaluation order. */
    double ratio(int step, int nfe, double guidance) {
        double g = guidance / GUIDANCE_SCALE;
        double x = (double) step / nfe;
        double n = nfe / NFE_SCALE;
        double result = 0;
        double xPow = 1;
        for (int p = 0; p < 4; p++) {
            double[] c1 = new double[3];
            for (int q = 0; q < 3; q++) {
                int o = p * 9 + q * 3;
                c1[q] = coefficients[o] * n * n + coefficients[o + 1] * n + coefficients[o + 2];
            }
            double c2 = c1[0] * g * g + c1[1] * g + c1[2];
            result += c2 * xPow;
            xPow *= x;
        }
        return result;
    }

    /** The features of one (step, nfe, guidance): {@code x^p g^(2-q) n^(2-k)} in coefficient order. */
    static double[] features(int step, int nfe, double guidance) {
        double g = guidance / GUIDANCE_SCALE;
        double x = (double) step / nfe;
        double n = nfe / NFE_SCALE;
        double[] f = new double[SIZE];
        for (int p = 0; p < 4; p++) {
            for (int q = 0; q < 3; q++) {
                for (int k = 0; k < 3; k++) {
                    f[p * 9 + q * 3 + k] = Math.pow(x, p) * Math.pow(g, 2 - q) * Math.pow(n, 2 - k);
                }
            }
        }
        return f;
    }

    /** One searched configuration: its NFE, guidance scale and per-step ratios ({@code ratios.length == nfe}). */
    public record Sample(int nfe, double guidance, double[] ratios) {
        public Sample {
            if (ratios == null || ratios.length != nfe) {
                throw new IllegalArgumentException("cpr: sample ratios must have nfe (" + nfe + ") entries");
            }
            if (!Double.isFinite(guidance)) {
                throw new IllegalArgumentException("cpr: sample guidance must be finite");
            }
            ratios = ratios.clone();
        }

        @Override
        public double[] ratios() {
            return ratios.clone();
        }
    }

    /**
     * A fitted regression with its residuals over the fitted points.
     *
     * @param model       the coefficients
     * @param points      free steps fitted
     * @param rmsResidual root mean square of {@code predicted - searched}
     * @param maxResidual largest absolute residual
     * @param conditionNumber of the (column-scaled) design matrix
     */
    public record Fit(CascadePolynomialRegression model, int points, double rmsResidual, double maxResidual,
                      double conditionNumber) {
    }

    /** Joint least squares over every free step of every sample (see the class comment). */
    public static Fit fit(List<Sample> samples) {
        if (samples == null || samples.isEmpty()) {
            throw new IllegalArgumentException("cpr: at least one sample is required");
        }
        int rows = 0;
        for (Sample s : samples) {
            rows += Math.max(0, s.nfe() - FIRST_FREE_STEP + 1);
        }
        if (rows < SIZE) {
            throw new IllegalArgumentException("cpr: " + rows + " free steps in the samples, at least 36 are needed");
        }
        double[][] a = new double[rows][];
        double[] y = new double[rows];
        int r = 0;
        for (Sample s : samples) {
            for (int step = FIRST_FREE_STEP; step <= s.nfe(); step++) {
                a[r] = features(step, s.nfe(), s.guidance());
                y[r] = s.ratios[step - 1];
                r++;
            }
        }
        // scale columns to unit norm (conditioning), solve, unscale
        double[] norm = new double[SIZE];
        for (int j = 0; j < SIZE; j++) {
            double ss = 0;
            for (double[] row : a) {
                ss += row[j] * row[j];
            }
            norm[j] = Math.sqrt(ss);
            if (norm[j] == 0) {
                throw new IllegalArgumentException("cpr: coefficient " + j + " has no support in the samples");
            }
        }
        double[][] scaled = new double[rows][SIZE];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < SIZE; j++) {
                scaled[i][j] = a[i][j] / norm[j];
            }
        }
        SingularValueDecomposition svd = new SingularValueDecomposition(new Array2DRowRealMatrix(scaled, false));
        double[] sv = svd.getSingularValues();
        if (svd.getRank() < SIZE || sv[SIZE - 1] < 1e-12 * sv[0]) {
            throw new IllegalArgumentException("cpr: the samples do not determine all 36 coefficients (rank "
                    + svd.getRank() + "); give at least three distinct NFE values, three distinct guidance scales and"
                    + " four free steps per configuration");
        }
        double[] c = svd.getSolver().solve(new ArrayRealVector(y, false)).toArray();
        for (int j = 0; j < SIZE; j++) {
            c[j] /= norm[j];
        }
        CascadePolynomialRegression model = new CascadePolynomialRegression(c);
        double ss = 0;
        double max = 0;
        for (Sample s : samples) {
            double[] pred = model.predict(s.nfe(), s.guidance());
            for (int step = FIRST_FREE_STEP; step <= s.nfe(); step++) {
                double d = pred[step - 1] - s.ratios[step - 1];
                ss += d * d;
                max = Math.max(max, Math.abs(d));
            }
        }
        return new Fit(model, rows, Math.sqrt(ss / rows), max, sv[0] / sv[SIZE - 1]);
    }

    /** Reads the official layout: a float64 {@code .npy} of 36 values (flat or shaped (4, 3, 3)). */
    public static CascadePolynomialRegression load(Path npy) throws IOException {
        NpyArray a = Npy.read(npy);
        if (a.size() != SIZE) {
            throw new IllegalArgumentException("cpr: " + npy + " holds " + a.size() + " values, expected 36 (4 x 3 x 3)"
                    + " shape " + Arrays.toString(a.shape()));
        }
        return new CascadePolynomialRegression(a.asDoubles());
    }

    /** Writes the official layout (flat float64, 36 values). */
    public void save(Path npy) throws IOException {
        Npy.write(npy, NpyArray.ofDoubles(coefficients, SIZE));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CascadePolynomialRegression c && Arrays.equals(coefficients, c.coefficients);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(coefficients);
    }

    @Override
    public String toString() {
        return "CascadePolynomialRegression" + Arrays.toString(coefficients);
    }
}
