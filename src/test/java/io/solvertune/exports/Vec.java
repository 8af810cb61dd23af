package io.solvertune.exports;

/** Elementwise arithmetic on batches {@code [B][D]} for the consumer emulators. */
final class Vec {
    private Vec() {
    }

    static double[][] lin(double a, double[][] x, double b, double[][] y) {
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            out[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) {
                out[i][j] = a * x[i][j] + b * y[i][j];
            }
        }
        return out;
    }

    static double[][] add(double[][] x, double[][] y) {
        return lin(1.0, x, 1.0, y);
    }

    static double[][] scale(double a, double[][] x) {
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            out[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) {
                out[i][j] = a * x[i][j];
            }
        }
        return out;
    }

    static double[][] rows(double[] flat, int d) {
        double[][] out = new double[flat.length / d][d];
        for (int i = 0; i < out.length; i++) {
            System.arraycopy(flat, i * d, out[i], 0, d);
        }
        return out;
    }

    static double[] flat(double[][] x) {
        int d = x[0].length;
        double[] out = new double[x.length * d];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(x[i], 0, out, i * d, d);
        }
        return out;
    }
}
