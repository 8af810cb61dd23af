package io.solvertune.numerics.solver.edm;

import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.Step;
import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Lin;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * Euler in EDM form (Karras et al. 2022, k-diffusion {@code sample_euler}): on the scaled state
 * {@code x~ = x/alpha} against the VE noise level {@code sigma~ = sigma/alpha}, {@code d = (x~ - D)/sigma~},
 * {@code x~_t = x~_s + (sigma~_t - sigma~_s) d}. One NFE per step. (On VP schedules this equals DDIM.)
 */
public final class EdmEulerSolver implements Solver {

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
        // x~_t = x~_s + (st - ss) (x~_s - D)/ss = (st/ss) x~_s + (1 - st/ss) D ;  x_t = at x~_t
        double ratio = st / ss;
        return Lin.of(at * ratio / as, x, at * (1.0 - ratio), d0);
    }
}
