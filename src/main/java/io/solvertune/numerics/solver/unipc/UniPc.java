package io.solvertune.numerics.solver.unipc;

import io.solvertune.numerics.solver.Solver;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.model.PredictionType;

/** UniPC multistep (predictor UniP + corrector UniC), orders 1-3, bh1/bh2, data or noise prediction. */
public record UniPc(PredictionType prediction, Variant variant, int order) implements SolverSpec {

    /** UniPC's B(h): {@code bh1} = h, {@code bh2} = e^h - 1. */
    public enum Variant { BH1, BH2 }

    public UniPc {
        if (prediction != PredictionType.NOISE && prediction != PredictionType.DATA) {
            throw new IllegalArgumentException("unipc: prediction must be noise or data, got " + prediction);
        }
        if (variant == null) {
            throw new IllegalArgumentException("unipc: variant (bh1 or bh2) is required");
        }
        if (order < 1 || order > 3) {
            throw new IllegalArgumentException("unipc: order must be 1, 2 or 3, got " + order);
        }
    }

    @Override
    public Solver create() {
        return new UniPcSolver(this);
    }

    @Override
    public String label() {
        return "unipc " + (prediction == PredictionType.DATA ? "data" : "noise") + " "
                + variant.name().toLowerCase(java.util.Locale.ROOT) + " o" + order;
    }
}
