package io.solvertune.tuning.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** Turns a job spec into its stages. */
public interface JobPlanner {

    /**
     * The registered model a job is submitted for, as far as planning needs to know it (resolved by the service
     * before planning).
     *
     * @param numClasses  the model's classes (0: unconditional)
     * @param sampleShape the shape of one sample, or null if not known (planners then plan for any shape)
     * @param kind        the registry's kind ({@code analytic}, {@code empirical}, {@code torchscript}), or null if not
     *                    known (planners then accept what any kind could run)
     */
    record Model(long id, String name, int numClasses, long[] sampleShape, String kind) {
        /** The registry's kind of a TorchScript network. */
        public static final String TORCHSCRIPT = "torchscript";

        /** A model whose kind is not known. */
        public Model(long id, String name, int numClasses, long[] sampleShape) {
            this(id, name, numClasses, sampleShape, null);
        }

        /** A model whose sample shape and kind are not known. */
        public Model(long id, String name, int numClasses) {
            this(id, name, numClasses, null, null);
        }

        /** Whether the model is known to be a TorchScript network (no input gradient in DJL here). */
        public boolean torchScript() {
            return TORCHSCRIPT.equals(kind);
        }
    }

    /**
     * Checks the spec and plans it: stages in a topological order (every stage after those it depends on).
     * Deterministic: the same spec gives the same plan.
     *
     * @throws IllegalArgumentException with a {@code "field: message"} text naming the offending spec field; an
     *                                  {@link InvalidSpecException} lists every offending field
     */
    List<PlannedStage> plan(JsonNode spec);

    /**
     * Plans a spec submitted for {@code model}: also checks what depends on the model (a class label against its
     * classes). The default ignores the model.
     */
    default List<PlannedStage> plan(JsonNode spec, Model model) {
        return plan(spec);
    }
}
