package io.solvertune.exports;

import static io.solvertune.exports.Vec.add;
import static io.solvertune.exports.Vec.lin;
import static io.solvertune.exports.Vec.scale;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The four diffusers schedulers the exports use, written from their semantics in
 * {@code src/diffusers/schedulers/} at huggingface/diffusers@58eb52c, driven the way a pipeline drives them
 * ({@code latents = noise * init_noise_sigma}; per timestep {@code scale_model_input}, the network, {@code step}):
 * <ul>
 *   <li>{@code set_timesteps}: {@code timesteps=} casts to int64 and interpolates the sigma table at them, then
 *       appends {@code sigma_min} (the table's index 0) or 0 ({@code final_sigmas_type}); the Euler scheduler's
 *       {@code sigmas=} keeps the list and derives timesteps with {@code _sigma_to_t} (linear in log sigma); the
 *       exports' "assign" mode replaces {@code sigmas} and {@code timesteps} after {@code set_timesteps(n)};</li>
 *   <li>{@code DPMSolverMultistepScheduler.step}: {@code convert_model_output}, the order choice (warm-up, {@code
 *       lower_order_final} below 15 steps, {@code euler_at_final}, a zero final sigma), first/second (midpoint,
 *       heun)/third order updates of {@code dpmsolver++} and {@code dpmsolver};</li>
 *   <li>{@code DPMSolverSinglestepScheduler}: {@code get_order_list} (forcing {@code lower_order_final} when the
 *       step count is not a multiple of the order), one scheduler step per model call, updates from the saved
 *       sample of the interval start;</li>
 *   <li>{@code UniPCMultistepScheduler.step}: corrector UniC of the previous step in the next call (with the model
 *       output at the predicted point), predictor UniP, {@code this_order} warm-up and lowering;</li>
 *   <li>{@code EulerDiscreteScheduler} ({@code s_churn = 0}): Euler in sigma, {@code init_noise_sigma =
 *       sqrt(sigma_max^2 + 1)} for {@code timestep_spacing="leading"}.</li>
 * </ul>
 * Only the epsilon prediction type is emulated (the test models predict noise), and everything runs in double
 * precision: the real schedulers keep their sigma table and the sample in float32, which the dev-time check
 * against the real code measured (relative state differences up to 1.2e-5 for DPMSolverMultistepScheduler, 1.9e-7
 * for DPMSolverSinglestepScheduler, 1.2e-4 for EulerDiscreteScheduler on one seed near a mixture boundary, held-out
 * MSE ratios within 1 +- 5e-4; UniPCMultistepScheduler, which keeps float64, 2.7e-13).
 */
final class DiffusersEmulator {

    /** The network as a pipeline calls it: {@code unet(latent_model_input, t)} returning epsilon. */
    interface Network {
        double[][] eps(double[][] x, double timestep);
    }

    private final String cls;
    private final Map<?, ?> config;
    private final boolean flow;
    private final double[] table;        // VP sigmas of the training timesteps (discrete schedules)
    private double[] sigmas;
    private double[] timesteps;
    private int steps;                   // num_inference_steps
    private int order;
    private List<double[][]> outputs;
    private int lowerOrderNums;
    private int stepIndex;
    private double[][] sample;           // singlestep: the interval start; UniPC: last_sample
    private int thisOrder;
    private int[] orderList;

    DiffusersEmulator(Map<?, ?> arguments) {
        this.cls = (String) arguments.get("scheduler");
        this.config = (Map<?, ?>) arguments.get("schedulerConfig");
        this.flow = Boolean.TRUE.equals(config.get("use_flow_sigmas"));
        this.table = flow ? null : table(config);
        this.order = config.containsKey("solver_order") ? ((Number) config.get("solver_order")).intValue() : 1;
        String mode = (String) arguments.get("mode");
        switch (mode) {
            case "timesteps" -> {
                long[] ts = (long[]) arguments.get("timesteps");
                timesteps = new double[ts.length];
                sigmas = new double[ts.length + 1];
                for (int i = 0; i < ts.length; i++) {
                    timesteps[i] = ts[i];
                    sigmas[i] = table[(int) ts[i]];
                }
                sigmas[ts.length] = "zero".equals(config.get("final_sigmas_type")) ? 0.0 : table[0];
                steps = ts.length;
            }
            case "sigmas" -> {
                sigmas = ((double[]) arguments.get("sigmas")).clone();
                timesteps = new double[sigmas.length - 1];
                for (int i = 0; i < timesteps.length; i++) {
                    timesteps[i] = sigmaToT(sigmas[i]);
                }
                steps = timesteps.length;
            }
            case "assign" -> {
                steps = ((Number) arguments.get("numInferenceSteps")).intValue();
                sigmas = ((double[]) arguments.get("sigmas")).clone();
                timesteps = ((double[]) arguments.get("timesteps")).clone();
                if (timesteps.length != steps || sigmas.length != steps + 1) {
                    throw new AssertionError("assigned schedule does not match set_timesteps(" + steps + ")");
                }
            }
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        }
        outputs = new ArrayList<>();
        for (int i = 0; i < Math.max(order, 1); i++) {
            outputs.add(null);
        }
        if (cls.equals("DPMSolverSinglestepScheduler")) {
            boolean lof = Boolean.TRUE.equals(config.get("lower_order_final"));
            orderList = DiffusersRule.singlestepOrders(steps, order, lof, "zero".equals(config.get("final_sigmas_type")));
        }
    }

    /** The VP sigma table {@code sqrt((1 - alphas_cumprod) / alphas_cumprod)} of the scheduler's betas (float64). */
    static double[] table(Map<?, ?> config) {
        int n = ((Number) config.get("num_train_timesteps")).intValue();
        double[] betas;
        Object trained = config.get("trained_betas");
        if (trained instanceof double[] tb) {
            betas = tb;
        } else {
            String schedule = (String) config.get("beta_schedule");
            double bs = ((Number) config.get("beta_start")).doubleValue();
            double be = ((Number) config.get("beta_end")).doubleValue();
            betas = new double[n];
            for (int i = 0; i < n; i++) {
                double u = n == 1 ? 0 : (double) i / (n - 1);
                betas[i] = switch (schedule) {
                    case "linear" -> bs + u * (be - bs);
                    case "scaled_linear" -> Math.pow(Math.sqrt(bs) + u * (Math.sqrt(be) - Math.sqrt(bs)), 2);
                    default -> throw new IllegalArgumentException("no emulation of beta_schedule " + schedule);
                };
            }
        }
        double[] sig = new double[betas.length];
        double ac = 1.0;
        for (int i = 0; i < betas.length; i++) {
            ac *= 1.0 - betas[i];
            sig[i] = Math.sqrt((1 - ac) / ac);
        }
        return sig;
    }

    /** {@code _sigma_to_t}: the fractional timestep, linear in log sigma between the table's entries. */
    private double sigmaToT(double sigma) {
        double ls = Math.log(Math.max(sigma, 1e-10));
        int low = 0;
        for (int i = 0; i < table.length; i++) {
            if (ls - Math.log(table[i]) >= 0) {
                low = i;
            }
        }
        low = Math.min(low, table.length - 2);
        double lo = Math.log(table[low]);
        double hi = Math.log(table[low + 1]);
        double w = Math.min(1, Math.max(0, (lo - ls) / (lo - hi)));
        return (1 - w) * low + w * (low + 1);
    }

    double initNoiseSigma() {
        if (cls.equals("EulerDiscreteScheduler")) {
            double max = Arrays.stream(sigmas).max().orElseThrow();
            String spacing = (String) config.get("timestep_spacing");
            return spacing.equals("linspace") || spacing.equals("trailing") ? max : Math.sqrt(max * max + 1);
        }
        return 1.0;
    }

    /** The whole pipeline loop from the initial noise; returns the scheduler's final sample. */
    double[][] run(Network net, double[][] noise) {
        double[][] x = scale(initNoiseSigma(), noise);
        for (int k = 0; k < timesteps.length; k++) {
            double t = timesteps[k];
            double[][] in = cls.equals("EulerDiscreteScheduler")
                    ? scale(1 / Math.sqrt(sigmas[k] * sigmas[k] + 1), x) : x;
            double[][] eps = net.eps(in, t);
            x = step(eps, x);
        }
        return x;
    }

    private double[] alphaSigma(double sigma) {
        if (flow) {
            return new double[] {1 - sigma, sigma};
        }
        double a = 1 / Math.sqrt(sigma * sigma + 1);
        return new double[] {a, sigma * a};
    }

    private double lambda(double sigma) {
        double[] as = alphaSigma(sigma);
        return Math.log(as[0]) - Math.log(as[1]);
    }

    private boolean dataAlgorithm() {
        if (cls.equals("UniPCMultistepScheduler")) {
            return Boolean.TRUE.equals(config.get("predict_x0"));
        }
        return "dpmsolver++".equals(config.get("algorithm_type"));
    }

    private double[][] convert(double[][] eps, double[][] x) {
        if (!"epsilon".equals(config.get("prediction_type"))) {
            throw new IllegalArgumentException("only epsilon is emulated");
        }
        if (!dataAlgorithm()) {
            return eps;
        }
        double[] as = alphaSigma(sigmas[stepIndex]);
        return scale(1 / as[0], lin(1.0, x, -as[1], eps));
    }

    private double[][] step(double[][] eps, double[][] x) {
        double[][] next = switch (cls) {
            case "EulerDiscreteScheduler" -> {
                double sigma = sigmas[stepIndex];
                double[][] x0 = lin(1.0, x, -sigma, eps);
                double[][] d = scale(1 / sigma, add(x, scale(-1.0, x0)));
                yield lin(1.0, x, sigmas[stepIndex + 1] - sigma, d);
            }
            case "DPMSolverMultistepScheduler" -> multistep(eps, x);
            case "DPMSolverSinglestepScheduler" -> singlestep(eps, x);
            case "UniPCMultistepScheduler" -> uniPc(eps, x);
            default -> throw new IllegalArgumentException("no emulation of " + cls);
        };
        stepIndex++;
        return next;
    }

    private void push(double[][] m) {
        outputs.remove(0);
        outputs.add(m);
    }

    private double[][] out(int fromEnd) {
        return outputs.get(outputs.size() - fromEnd);
    }

    // ---- DPMSolverMultistepScheduler ------------------------------------------------------------------------------

    private double[][] multistep(double[][] eps, double[][] x) {
        int n = timesteps.length;
        boolean lof = Boolean.TRUE.equals(config.get("lower_order_final"));
        boolean lowerFinal = stepIndex == n - 1 && (Boolean.TRUE.equals(config.get("euler_at_final"))
                || lof && n < 15 || "zero".equals(config.get("final_sigmas_type")));
        boolean lowerSecond = stepIndex == n - 2 && lof && n < 15;
        push(convert(eps, x));
        double[][] r;
        if (order == 1 || lowerOrderNums < 1 || lowerFinal) {
            r = firstOrder(out(1), x, sigmas[stepIndex + 1], sigmas[stepIndex]);
        } else if (order == 2 || lowerOrderNums < 2 || lowerSecond) {
            r = secondOrderMultistep(x);
        } else {
            r = thirdOrderMultistep(x);
        }
        if (lowerOrderNums < order) {
            lowerOrderNums++;
        }
        return r;
    }

    private double[][] firstOrder(double[][] m, double[][] x, double sigT, double sigS) {
        double[] t = alphaSigma(sigT);
        double[] s = alphaSigma(sigS);
        double h = lambda(sigT) - lambda(sigS);
        if (sigT == 0) { // lambda_t = inf: the dpmsolver++ update is the data prediction itself
            return dataAlgorithm() ? m : null;
        }
        if (dataAlgorithm()) {
            return lin(t[1] / s[1], x, -t[0] * (Math.exp(-h) - 1.0), m);
        }
        return lin(t[0] / s[0], x, -t[1] * (Math.exp(h) - 1.0), m);
    }

    private double[][] secondOrderMultistep(double[][] x) {
        double sT = sigmas[stepIndex + 1];
        double s0 = sigmas[stepIndex];
        double s1 = sigmas[stepIndex - 1];
        double[] at = alphaSigma(sT);
        double[] a0 = alphaSigma(s0);
        double h = lambda(sT) - lambda(s0);
        double h0 = lambda(s0) - lambda(s1);
        double r0 = h0 / h;
        double[][] d0 = out(1);
        double[][] d1 = scale(1 / r0, add(out(1), scale(-1.0, out(2))));
        boolean mid = "midpoint".equals(config.get("solver_type"));
        if (dataAlgorithm()) {
            double e = Math.exp(-h) - 1.0;
            double[][] base = lin(at[1] / a0[1], x, -at[0] * e, d0);
            return mid ? lin(1.0, base, -0.5 * at[0] * e, d1) : lin(1.0, base, at[0] * (e / h + 1.0), d1);
        }
        double e = Math.exp(h) - 1.0;
        double[][] base = lin(at[0] / a0[0], x, -at[1] * e, d0);
        return mid ? lin(1.0, base, -0.5 * at[1] * e, d1) : lin(1.0, base, -at[1] * (e / h - 1.0), d1);
    }

    private double[][] thirdOrderMultistep(double[][] x) {
        double sT = sigmas[stepIndex + 1];
        double s0 = sigmas[stepIndex];
        double s1 = sigmas[stepIndex - 1];
        double s2 = sigmas[stepIndex - 2];
        double[] at = alphaSigma(sT);
        double[] a0 = alphaSigma(s0);
        double h = lambda(sT) - lambda(s0);
        double r0 = (lambda(s0) - lambda(s1)) / h;
        double r1 = (lambda(s1) - lambda(s2)) / h;
        double[][] m0 = out(1);
        double[][] m1 = out(2);
        double[][] m2 = out(3);
        double[][] d10 = scale(1 / r0, add(m0, scale(-1.0, m1)));
        double[][] d11 = scale(1 / r1, add(m1, scale(-1.0, m2)));
        double[][] d1 = lin(1.0, d10, r0 / (r0 + r1), add(d10, scale(-1.0, d11)));
        double[][] d2 = scale(1 / (r0 + r1), add(d10, scale(-1.0, d11)));
        if (dataAlgorithm()) {
            double e = Math.exp(-h) - 1.0;
            double[][] r = lin(at[1] / a0[1], x, -at[0] * e, m0);
            r = lin(1.0, r, at[0] * (e / h + 1.0), d1);
            return lin(1.0, r, -at[0] * ((Math.exp(-h) - 1.0 + h) / (h * h) - 0.5), d2);
        }
        double e = Math.exp(h) - 1.0;
        double[][] r = lin(at[0] / a0[0], x, -at[1] * e, m0);
        r = lin(1.0, r, -at[1] * (e / h - 1.0), d1);
        return lin(1.0, r, -at[1] * ((Math.exp(h) - 1.0 - h) / (h * h) - 0.5), d2);
    }

    // ---- DPMSolverSinglestepScheduler -----------------------------------------------------------------------------

    private double[][] singlestep(double[][] eps, double[][] x) {
        push(convert(eps, x));
        int o = orderList[stepIndex];
        while (out(o) == null) {
            o--;
        }
        if (o == 1) {
            sample = x;
        }
        boolean mid = "midpoint".equals(config.get("solver_type"));
        boolean data = dataAlgorithm();
        if (o == 1) {
            return firstOrder(out(1), sample, sigmas[stepIndex + 1], sigmas[stepIndex]);
        }
        double sT = sigmas[stepIndex + 1];
        double[] at = alphaSigma(sT);
        if (o == 2) {
            double s0 = sigmas[stepIndex];
            double s1 = sigmas[stepIndex - 1];
            double[] a1 = alphaSigma(s1);
            double h = lambda(sT) - lambda(s1);
            double r0 = (lambda(s0) - lambda(s1)) / h;
            double[][] d0 = out(2);
            double[][] d1 = scale(1 / r0, add(out(1), scale(-1.0, out(2))));
            if (data) {
                double e = Math.exp(-h) - 1.0;
                double[][] base = lin(at[1] / a1[1], sample, -at[0] * e, d0);
                return mid ? lin(1.0, base, -0.5 * at[0] * e, d1) : lin(1.0, base, at[0] * (e / h + 1.0), d1);
            }
            double e = Math.exp(h) - 1.0;
            double[][] base = lin(at[0] / a1[0], sample, -at[1] * e, d0);
            return mid ? lin(1.0, base, -0.5 * at[1] * e, d1) : lin(1.0, base, -at[1] * (e / h - 1.0), d1);
        }
        double s0 = sigmas[stepIndex];
        double s1 = sigmas[stepIndex - 1];
        double s2 = sigmas[stepIndex - 2];
        double[] a2 = alphaSigma(s2);
        double h = lambda(sT) - lambda(s2);
        double r0 = (lambda(s0) - lambda(s2)) / h;
        double r1 = (lambda(s1) - lambda(s2)) / h;
        double[][] m0 = out(1);
        double[][] m1 = out(2);
        double[][] m2 = out(3);
        double[][] d10 = scale(1 / r1, add(m1, scale(-1.0, m2)));
        double[][] d11 = scale(1 / r0, add(m0, scale(-1.0, m2)));
        double[][] d1 = scale(1 / (r0 - r1), lin(r0, d10, -r1, d11));
        double[][] d2 = scale(2.0 / (r0 - r1), add(d11, scale(-1.0, d10)));
        if (data) {
            double e = Math.exp(-h) - 1.0;
            double[][] base = lin(at[1] / a2[1], sample, -at[0] * e, m2);
            if (mid) {
                return lin(1.0, base, at[0] * (e / h + 1.0), d11);
            }
            return lin(1.0, lin(1.0, base, at[0] * (e / h + 1.0), d1), -at[0] * ((e + h) / (h * h) - 0.5), d2);
        }
        double e = Math.exp(h) - 1.0;
        double[][] base = lin(at[0] / a2[0], sample, -at[1] * e, m2);
        if (mid) {
            return lin(1.0, base, -at[1] * (e / h - 1.0), d11);
        }
        return lin(1.0, lin(1.0, base, -at[1] * (e / h - 1.0), d1), -at[1] * ((e - h) / (h * h) - 0.5), d2);
    }

    // ---- UniPCMultistepScheduler ----------------------------------------------------------------------------------

    private double[][] uniPc(double[][] eps, double[][] x) {
        double[][] converted = convert(eps, x);
        if (stepIndex > 0 && sample != null) {
            x = corrector(converted, sample, x, thisOrder);
        }
        push(converted);
        boolean lof = Boolean.TRUE.equals(config.get("lower_order_final"));
        int o = lof ? Math.min(order, timesteps.length - stepIndex) : order;
        thisOrder = Math.min(o, lowerOrderNums + 1);
        sample = x;
        double[][] r = predictor(x, thisOrder);
        if (lowerOrderNums < order) {
            lowerOrderNums++;
        }
        return r;
    }

    /** UniPC's {@code R}, {@code b}, {@code B(h)}, {@code h phi_1} for a step from s0 to t with the given rks. */
    private double[][] coefficients(double h, double[] rks, int o) {
        double hh = dataAlgorithm() ? -h : h;
        double hPhi1 = Math.expm1(hh);
        double hPhiK = hPhi1 / hh - 1;
        double factorial = 1;
        double bh = "bh1".equals(config.get("solver_type")) ? hh : Math.expm1(hh);
        double[][] rb = new double[o + 1][o];
        for (int i = 1; i <= o; i++) {
            for (int k = 0; k < o; k++) {
                rb[i - 1][k] = Math.pow(rks[k], i - 1);
            }
            rb[o][i - 1] = hPhiK * factorial / bh;
            factorial *= i + 1;
            hPhiK = hPhiK / hh - 1 / factorial;
        }
        return new double[][] {{hPhi1, bh}, flatten(rb)};
    }

    private static double[] flatten(double[][] a) {
        List<Double> l = new ArrayList<>();
        for (double[] r : a) {
            for (double v : r) {
                l.add(v);
            }
        }
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double[] solve(double[][] a, double[] b) {
        return new org.apache.commons.math3.linear.LUDecomposition(
                new org.apache.commons.math3.linear.Array2DRowRealMatrix(a)).getSolver()
                .solve(new org.apache.commons.math3.linear.ArrayRealVector(b)).toArray();
    }

    private double[][] predictor(double[][] x, int o) {
        double sT = sigmas[stepIndex + 1];
        double s0 = sigmas[stepIndex];
        double h = lambda(sT) - lambda(s0);
        double[][] m0 = out(1);
        double[] rks = new double[o];
        List<double[][]> d1s = new ArrayList<>();
        for (int i = 1; i < o; i++) {
            double si = sigmas[stepIndex - i];
            rks[i - 1] = (lambda(si) - lambda(s0)) / h;
            d1s.add(scale(1 / rks[i - 1], add(out(i + 1), scale(-1.0, m0))));
        }
        rks[o - 1] = 1.0;
        double[][] c = coefficients(h, rks, o);
        double hPhi1 = c[0][0];
        double bh = c[0][1];
        double[] rhos = null;
        if (!d1s.isEmpty()) {
            if (o == 2) {
                rhos = new double[] {0.5};
            } else {
                double[][] r = new double[o - 1][o - 1];
                double[] b = new double[o - 1];
                for (int i = 0; i < o - 1; i++) {
                    for (int k = 0; k < o - 1; k++) {
                        r[i][k] = c[1][i * o + k];
                    }
                    b[i] = c[1][o * o + i];
                }
                rhos = solve(r, b);
            }
        }
        double[] at = alphaSigma(sT);
        double[] a0 = alphaSigma(s0);
        double[][] xt = dataAlgorithm() ? lin(at[1] / a0[1], x, -at[0] * hPhi1, m0)
                : lin(at[0] / a0[0], x, -at[1] * hPhi1, m0);
        double scaleT = dataAlgorithm() ? at[0] : at[1];
        for (int k = 0; rhos != null && k < rhos.length; k++) {
            xt = lin(1.0, xt, -scaleT * bh * rhos[k], d1s.get(k));
        }
        return xt;
    }

    private double[][] corrector(double[][] modelT, double[][] last, double[][] thisSample, int o) {
        double sT = sigmas[stepIndex];
        double s0 = sigmas[stepIndex - 1];
        double h = lambda(sT) - lambda(s0);
        double[][] m0 = out(1);
        double[] rks = new double[o];
        List<double[][]> d1s = new ArrayList<>();
        for (int i = 1; i < o; i++) {
            double si = sigmas[stepIndex - (i + 1)];
            rks[i - 1] = (lambda(si) - lambda(s0)) / h;
            d1s.add(scale(1 / rks[i - 1], add(out(i + 1), scale(-1.0, m0))));
        }
        rks[o - 1] = 1.0;
        double[][] c = coefficients(h, rks, o);
        double hPhi1 = c[0][0];
        double bh = c[0][1];
        double[] rhos;
        if (o == 1) {
            rhos = new double[] {0.5};
        } else {
            double[][] r = new double[o][o];
            double[] b = new double[o];
            for (int i = 0; i < o; i++) {
                for (int k = 0; k < o; k++) {
                    r[i][k] = c[1][i * o + k];
                }
                b[i] = c[1][o * o + i];
            }
            rhos = solve(r, b);
        }
        double[] at = alphaSigma(sT);
        double[] a0 = alphaSigma(s0);
        double[][] xt = dataAlgorithm() ? lin(at[1] / a0[1], last, -at[0] * hPhi1, m0)
                : lin(at[0] / a0[0], last, -at[1] * hPhi1, m0);
        double scaleT = dataAlgorithm() ? at[0] : at[1];
        double[][] res = scale(rhos[o - 1], add(modelT, scale(-1.0, m0)));
        for (int k = 0; k < o - 1; k++) {
            res = lin(1.0, res, rhos[k], d1s.get(k));
        }
        return lin(1.0, xt, -scaleT * bh, res);
    }

    /** Steps the scheduler would run (for the tests' bookkeeping). */
    int steps() {
        return steps;
    }

    double[] timesteps() {
        return timesteps.clone();
    }
}
