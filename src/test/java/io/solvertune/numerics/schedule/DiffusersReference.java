package io.solvertune.numerics.schedule;

/**
 * Independent re-implementation (test side only) of diffusers' {@code DDPMScheduler} beta presets and
 * {@code alphas_cumprod}, in double. Deliberately written without {@link Linspace} / {@link BetaSchedule} and with the
 * plain {@code start + i * step} linspace numpy uses (which differs from torch's symmetric one by at most an ulp).
 */
final class DiffusersReference {
    private DiffusersReference() {
    }

    /** numpy-style linspace: {@code start + i * (end - start) / (n - 1)}, last point forced to {@code end}. */
    static double[] linspace(double start, double end, int n) {
        double[] out = new double[n];
        double step = (end - start) / (n - 1);
        for (int i = 0; i < n; i++) {
            out[i] = start + i * step;
        }
        out[n - 1] = end;
        return out;
    }

    /** {@code betas = linspace(beta_start, beta_end, N)}. */
    static double[] linearBetas(double betaStart, double betaEnd, int n) {
        return linspace(betaStart, betaEnd, n);
    }

    /** {@code betas = linspace(sqrt(beta_start), sqrt(beta_end), N) ** 2}. */
    static double[] scaledLinearBetas(double betaStart, double betaEnd, int n) {
        double[] l = linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), n);
        for (int i = 0; i < n; i++) {
            l[i] = l[i] * l[i];
        }
        return l;
    }

    /** diffusers {@code betas_for_alpha_bar(N, max_beta=0.999)} with the cosine alpha_bar of iDDPM. */
    static double[] squaredcosCapV2Betas(int n) {
        double[] b = new double[n];
        for (int i = 0; i < n; i++) {
            double t1 = i / (double) n;
            double t2 = (i + 1) / (double) n;
            b[i] = Math.min(1.0 - alphaBar(t2) / alphaBar(t1), 0.999);
        }
        return b;
    }

    private static double alphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2.0);
        return c * c;
    }

    /** {@code alphas_cumprod = cumprod(1 - betas)} as a running product. */
    static double[] alphasCumprod(double[] betas) {
        double[] ac = new double[betas.length];
        double p = 1.0;
        for (int i = 0; i < betas.length; i++) {
            p *= 1.0 - betas[i];
            ac[i] = p;
        }
        return ac;
    }

    /** Half log-SNR of an alphas_cumprod value: {@code 0.5 log(ac / (1 - ac))}. */
    static double lambdaOf(double alphaCumprod) {
        return 0.5 * (Math.log(alphaCumprod) - Math.log1p(-alphaCumprod));
    }
}
