package io.solvertune.exports;

import static io.solvertune.exports.Vec.add;
import static io.solvertune.exports.Vec.lin;
import static io.solvertune.exports.Vec.scale;

/**
 * k-diffusion's deterministic samplers, written from their semantics in {@code k_diffusion/sampling.py} at
 * crowsonkb/k-diffusion@4601bf0 ({@code sample_euler}, {@code sample_heun}, {@code sample_dpm_2},
 * {@code sample_dpmpp_2s_ancestral}, {@code sample_dpmpp_2m}, {@code sample_dpmpp_2m_sde}, {@code sample_dpmpp_3m_sde},
 * {@code DPMSolver.dpm_solver_fast} / {@code sample_dpm_fast}) with the deterministic settings the exports state
 * ({@code s_churn = 0}, {@code eta = 0}), in double precision. ComfyUI's {@code comfy/k_diffusion/sampling.py} has
 * the same code for these samplers on non-flow models. The state is k-diffusion's {@code x} (VE), the model a
 * denoiser {@code D(x, sigma)}.
 *
 * <p>Checked at dev time: the real {@code k_diffusion.sampling} functions (with stub {@code tqdm}, {@code torchsde},
 * {@code torchdiffeq} modules, which the deterministic paths never call) run as the k-diffusion exports of 528
 * baseline configs of {@code public_gmm_sd_d8} state (246 offered: every sampler above) reproduce our sampler's final
 * states to at most 3e-13 relative in float64.
 */
final class KDiffusionEmulator {
    private KDiffusionEmulator() {
    }

    /** k-diffusion's {@code model(x, sigma)}: the denoised prediction. */
    interface Denoiser {
        double[][] apply(double[][] x, double sigma);
    }

    static double[][] toD(double[][] x, double sigma, double[][] denoised) {
        return scale(1.0 / sigma, add(x, scale(-1.0, denoised)));
    }

    static double[][] sampleEuler(Denoiser m, double[][] x, double[] sigmas) {
        for (int i = 0; i < sigmas.length - 1; i++) {
            double[][] d = toD(x, sigmas[i], m.apply(x, sigmas[i]));
            x = lin(1.0, x, sigmas[i + 1] - sigmas[i], d);
        }
        return x;
    }

    static double[][] sampleHeun(Denoiser m, double[][] x, double[] sigmas) {
        for (int i = 0; i < sigmas.length - 1; i++) {
            double[][] d = toD(x, sigmas[i], m.apply(x, sigmas[i]));
            double dt = sigmas[i + 1] - sigmas[i];
            if (sigmas[i + 1] == 0) {
                x = lin(1.0, x, dt, d);
            } else {
                double[][] x2 = lin(1.0, x, dt, d);
                double[][] d2 = toD(x2, sigmas[i + 1], m.apply(x2, sigmas[i + 1]));
                x = lin(1.0, x, dt, scale(0.5, add(d, d2)));
            }
        }
        return x;
    }

    static double[][] sampleDpm2(Denoiser m, double[][] x, double[] sigmas) {
        for (int i = 0; i < sigmas.length - 1; i++) {
            double[][] d = toD(x, sigmas[i], m.apply(x, sigmas[i]));
            if (sigmas[i + 1] == 0) {
                x = lin(1.0, x, sigmas[i + 1] - sigmas[i], d);
            } else {
                double mid = Math.exp(Math.log(sigmas[i]) + 0.5 * (Math.log(sigmas[i + 1]) - Math.log(sigmas[i])));
                double[][] x2 = lin(1.0, x, mid - sigmas[i], d);
                double[][] d2 = toD(x2, mid, m.apply(x2, mid));
                x = lin(1.0, x, sigmas[i + 1] - sigmas[i], d2);
            }
        }
        return x;
    }

    private static double t(double sigma) {
        return -Math.log(sigma);
    }

    private static double sigmaFn(double t) {
        return Math.exp(-t);
    }

    static double[][] sampleDpmpp2sAncestral(Denoiser m, double[][] x, double[] sigmas) {
        for (int i = 0; i < sigmas.length - 1; i++) {
            double[][] denoised = m.apply(x, sigmas[i]);
            double down = sigmas[i + 1]; // get_ancestral_step with eta = 0: (sigma_to, 0)
            if (down == 0) {
                x = lin(1.0, x, down - sigmas[i], toD(x, sigmas[i], denoised));
            } else {
                double t = t(sigmas[i]);
                double tNext = t(down);
                double h = tNext - t;
                double s = t + 0.5 * h;
                double[][] x2 = lin(sigmaFn(s) / sigmaFn(t), x, -Math.expm1(-h * 0.5), denoised);
                double[][] d2 = m.apply(x2, sigmaFn(s));
                x = lin(sigmaFn(tNext) / sigmaFn(t), x, -Math.expm1(-h), d2);
            }
        }
        return x;
    }

    static double[][] sampleDpmpp2m(Denoiser m, double[][] x, double[] sigmas) {
        double[][] old = null;
        for (int i = 0; i < sigmas.length - 1; i++) {
            double[][] denoised = m.apply(x, sigmas[i]);
            double t = t(sigmas[i]);
            double tNext = sigmas[i + 1] == 0 ? Double.POSITIVE_INFINITY : t(sigmas[i + 1]);
            double h = tNext - t;
            double ratio = sigmaFn(tNext) / sigmaFn(t);
            if (old == null || sigmas[i + 1] == 0) {
                x = lin(ratio, x, -Math.expm1(-h), denoised);
            } else {
                double r = (t - t(sigmas[i - 1])) / h;
                double[][] dd = lin(1 + 1 / (2 * r), denoised, -1 / (2 * r), old);
                x = lin(ratio, x, -Math.expm1(-h), dd);
            }
            old = denoised;
        }
        return x;
    }

    /** {@code sample_dpmpp_2m_sde(eta=0, solver_type=...)}. */
    static double[][] sampleDpmpp2mSde(Denoiser m, double[][] x, double[] sigmas, boolean heun) {
        double[][] old = null;
        double hLast = Double.NaN;
        double h = Double.NaN;
        for (int i = 0; i < sigmas.length - 1; i++) {
            double[][] denoised = m.apply(x, sigmas[i]);
            if (sigmas[i + 1] == 0) {
                x = denoised;
            } else {
                h = t(sigmas[i + 1]) - t(sigmas[i]);
                x = lin(sigmas[i + 1] / sigmas[i], x, -Math.expm1(-h), denoised);
                if (old != null) {
                    double r = hLast / h;
                    double c = heun ? -Math.expm1(-h) / (-h) + 1 : 0.5 * -Math.expm1(-h);
                    x = lin(1.0, x, c / r, add(denoised, scale(-1.0, old)));
                }
            }
            old = denoised;
            hLast = h;
        }
        return x;
    }

    /** {@code sample_dpmpp_3m_sde(eta=0)}. */
    static double[][] sampleDpmpp3mSde(Denoiser m, double[][] x, double[] sigmas) {
        double[][] d1 = null;
        double[][] d2 = null;
        Double h1 = null;
        Double h2 = null;
        double h = Double.NaN;
        for (int i = 0; i < sigmas.length - 1; i++) {
            double[][] denoised = m.apply(x, sigmas[i]);
            if (sigmas[i + 1] == 0) {
                x = denoised;
            } else {
                h = t(sigmas[i + 1]) - t(sigmas[i]);
                x = lin(Math.exp(-h), x, -Math.expm1(-h), denoised);
                double phi2 = Math.expm1(-h) / h + 1;
                if (h2 != null) {
                    double r0 = h1 / h;
                    double r1 = h2 / h;
                    double[][] d10 = scale(1 / r0, add(denoised, scale(-1.0, d1)));
                    double[][] d11 = scale(1 / r1, add(d1, scale(-1.0, d2)));
                    double[][] dd1 = lin(1.0, d10, r0 / (r0 + r1), add(d10, scale(-1.0, d11)));
                    double[][] dd2 = scale(1 / (r0 + r1), add(d10, scale(-1.0, d11)));
                    double phi3 = phi2 / h - 0.5;
                    x = add(lin(1.0, x, phi2, dd1), scale(-phi3, dd2));
                } else if (h1 != null) {
                    double r = h1 / h;
                    x = lin(1.0, x, phi2, scale(1 / r, add(denoised, scale(-1.0, d1))));
                }
            }
            d2 = d1;
            d1 = denoised;
            h2 = h1;
            h1 = h;
        }
        return x;
    }

    /** {@code sample_dpm_fast(model, x, sigma_min, sigma_max, n, eta=0)}: DPMSolver.dpm_solver_fast. */
    static double[][] sampleDpmFast(Denoiser m, double[][] x, double sigmaMin, double sigmaMax, int n) {
        double tStart = t(sigmaMax);
        double tEnd = t(sigmaMin);
        int mm = n / 3 + 1;
        double[] ts = new double[mm + 1];
        for (int i = 0; i <= mm; i++) {
            ts[i] = tStart + (tEnd - tStart) * i / mm;
        }
        int[] orders = new int[mm];
        java.util.Arrays.fill(orders, 3);
        if (n % 3 == 0) {
            orders[mm - 2] = 2;
            orders[mm - 1] = 1;
        } else {
            orders[mm - 1] = n % 3;
        }
        for (int i = 0; i < orders.length; i++) {
            double t = ts[i];
            double tn = ts[i + 1];
            double h = tn - t;
            double[][] eps = eps(m, x, t);
            if (orders[i] == 1) {
                x = lin(1.0, x, -sigmaFn(tn) * Math.expm1(h), eps);
            } else if (orders[i] == 2) {
                double r1 = 0.5;
                double s1 = t + r1 * h;
                double[][] u1 = lin(1.0, x, -sigmaFn(s1) * Math.expm1(r1 * h), eps);
                double[][] e1 = eps(m, u1, s1);
                x = add(lin(1.0, x, -sigmaFn(tn) * Math.expm1(h), eps),
                        scale(-sigmaFn(tn) / (2 * r1) * Math.expm1(h), add(e1, scale(-1.0, eps))));
            } else {
                double r1 = 1.0 / 3;
                double r2 = 2.0 / 3;
                double s1 = t + r1 * h;
                double s2 = t + r2 * h;
                double[][] u1 = lin(1.0, x, -sigmaFn(s1) * Math.expm1(r1 * h), eps);
                double[][] e1 = eps(m, u1, s1);
                double[][] u2 = add(lin(1.0, x, -sigmaFn(s2) * Math.expm1(r2 * h), eps),
                        scale(-sigmaFn(s2) * (r2 / r1) * (Math.expm1(r2 * h) / (r2 * h) - 1),
                                add(e1, scale(-1.0, eps))));
                double[][] e2 = eps(m, u2, s2);
                x = add(lin(1.0, x, -sigmaFn(tn) * Math.expm1(h), eps),
                        scale(-sigmaFn(tn) / r2 * (Math.expm1(h) / h - 1), add(e2, scale(-1.0, eps))));
            }
        }
        return x;
    }

    private static double[][] eps(Denoiser m, double[][] x, double t) {
        double sigma = sigmaFn(t);
        return scale(1 / sigma, add(x, scale(-1.0, m.apply(x, sigma))));
    }

    /** Dispatches a stage of an export ({@code sampler}, its sigmas and kwargs). */
    static double[][] run(String sampler, Denoiser m, double[][] x, double[] sigmas, java.util.Map<?, ?> kwargs) {
        return switch (sampler) {
            case "sample_euler" -> sampleEuler(m, x, sigmas);
            case "sample_heun" -> sampleHeun(m, x, sigmas);
            case "sample_dpm_2" -> sampleDpm2(m, x, sigmas);
            case "sample_dpmpp_2s_ancestral" -> {
                requireZero(kwargs, "eta");
                yield sampleDpmpp2sAncestral(m, x, sigmas);
            }
            case "sample_dpmpp_2m" -> sampleDpmpp2m(m, x, sigmas);
            case "sample_dpmpp_2m_sde" -> {
                requireZero(kwargs, "eta");
                yield sampleDpmpp2mSde(m, x, sigmas, "heun".equals(kwargs.get("solver_type")));
            }
            case "sample_dpmpp_3m_sde" -> {
                requireZero(kwargs, "eta");
                yield sampleDpmpp3mSde(m, x, sigmas);
            }
            default -> throw new IllegalArgumentException("no emulation of " + sampler);
        };
    }

    private static void requireZero(java.util.Map<?, ?> kwargs, String key) {
        Object v = kwargs.get(key);
        if (!(v instanceof Number n) || n.doubleValue() != 0.0) {
            throw new AssertionError(key + " must be 0 for a deterministic run, the export says " + v);
        }
    }
}
