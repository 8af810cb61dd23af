package io.solvertune.numerics.solver.ddim;

import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.Step;
import ai.djl.ndarray.NDArray;
import io.solvertune.numerics.model.PredictionType;
import io.solvertune.numerics.nd.Lin;
import io.solvertune.numerics.schedule.NoiseSchedule;

/**
 * Deterministic DDIM (Song et al., eta = 0): from one model call at {@code s},
 * {@code x0 = (x - sigma_s eps)/alpha_s} and {@code x_t = alpha_t x0 + sigma_t eps}, i.e.
 * {@code x_t = (sigma_t/sigma_s) x + (alpha_t - alpha_s sigma_t/sigma_s) x0}. Mathematically equal to
 * DPM-Solver(++)-1.
 */
public final class DdimSolver implements Solver {

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
        NDArray x0 = step.modelAtStart(x);
        double ratio = ns.sigma(t) / ns.sigma(s);
        return Lin.of(ratio, x, ns.alpha(t) - ns.alpha(s) * ratio, x0);
    }
}
