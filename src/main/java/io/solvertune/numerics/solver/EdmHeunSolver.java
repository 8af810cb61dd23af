package io.solvertune.numerics.solver;

import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Lin;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * Heun's second-order method in EDM form (Karras et al. 2022, Algorithm 1 with no churn): Euler predictor
 * {@code x~_e = x~_s + (sigma~_t - sigma~_s) d_s}, then {@code d_t = (x~_e - D(x_e, t))/sigma~_t} and
 * {@code x~_t = x~_s + (sigma~_t - sigma~_s)(d_s + d_t)/2}, on {@code x~ = x/alpha}, {@code sigma~ = sigma/alpha}.
 * Two NFE per step (the correction is skipped only for a step to noise level 0, which positive end times never
 * reach).
 */
final class EdmHeunSolver implements Solver {

    @Override
    public PredictionType historyType() {
        return PredictionType.DATA;
    }

    @Override
    public int historyCapacity() {
        return 1;
    }

    @Override
    public NDArray step(Step step, NDArray x) {
        NoiseSchedule ns = step.schedule();
        double s = step.s();
        double t = step.t();
        NDArray d0 = step.modelAtStart(x);
        double as = ns.alpha(s);
        double at = ns.alpha(t);
        double ss = ns.sigma(s) / as;
        double st = ns.sigma(t) / at;
        double dt = st - ss;
        // d_s = (x/as - D0)/ss ; x~_e = x/as + dt d_s
        try (NDArray ds = Lin.of(1.0 / (as * ss), x, -1.0 / ss, d0);
             NDArray xe = Lin.of(at / as, x, at * dt, ds)) {   // x_e = at x~_e
            if (st == 0.0) {
                return xe.duplicate();
            }
            try (NDArray d1 = step.model(xe, t);
                 NDArray dtv = Lin.of(1.0 / (at * st), xe, -1.0 / st, d1)) {
                // x_t = at (x/as + dt (d_s + d_t)/2)
                return Lin.of(at / as, x, at * dt * 0.5, ds, at * dt * 0.5, dtv);
            }
        }
    }
}
