package io.solvertune.numerics.solver.edm;

import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.Step;
import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Combo;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * Heun's second-order method in EDM form (Karras et al. 2022, Algorithm 1 with no churn): Euler predictor
 * {@code x~_e = x~_s + (sigma~_t - sigma~_s) d_s}, then {@code d_t = (x~_e - D(x_e, t))/sigma~_t} and
 * {@code x~_t = x~_s + (sigma~_t - sigma~_s)(d_s + d_t)/2}, on {@code x~ = x/alpha}, {@code sigma~ = sigma/alpha}.
 * Two NFE per step (the correction is skipped only for a step to noise level 0, which positive end times never
 * reach).
 */
public final class EdmHeunSolver implements Solver {

    @Override
    public PredictionType historyType() {
        return PredictionType.DATA;
    }

    @Override
    public int historyCapacity() {
        return 1;
    }

    private static final Combo X = Combo.basis(3, 0);
    private static final Combo D0 = Combo.basis(3, 1);
    private static final Combo D1 = Combo.basis(3, 2);

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
        Combo ds = X.times(1.0 / (as * ss)).minus(D0.times(1.0 / ss));   // d_s = (x/as - D0)/ss
        Combo xe = X.times(at / as).plus(ds.times(at * dt));              // x_e = at (x~_s + dt d_s)
        if (st == 0.0) {
            return xe.apply(x, d0, null);
        }
        NDArray d1;
        try (NDArray xeNd = xe.apply(x, d0, null)) {
            d1 = step.model(xeNd, t);
        }
        try (d1) {
            Combo dtv = xe.times(1.0 / (at * st)).minus(D1.times(1.0 / st)); // d_t = (x_e/at - D1)/st
            // x_t = at (x~_s + dt (d_s + d_t) / 2)
            Combo xt = X.times(at / as).plus(ds.plus(dtv).times(at * dt * 0.5));
            return xt.apply(x, d0, d1);
        }
    }
}
