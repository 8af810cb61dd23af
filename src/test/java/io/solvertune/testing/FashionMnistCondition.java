package io.solvertune.testing;

import io.solvertune.numerics.data.FashionMnist;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Skips {@link RequiresFashionMnist} tests when the dataset is not installed, naming the Debian package that provides
 * it. The reason is also printed to stderr, since Maven's console summary only counts skipped tests.
 */
public final class FashionMnistCondition implements ExecutionCondition {

    /** The Debian package that installs {@link FashionMnist#DEBIAN_DIR}. */
    public static final String PACKAGE = "dataset-fashion-mnist";

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        ConditionEvaluationResult r = evaluate(FashionMnist.DEBIAN_DIR);
        if (r.isDisabled()) {
            System.err.println("[skipped] " + context.getDisplayName() + ": " + r.getReason().orElse(""));
        }
        return r;
    }

    /** Enabled iff the dataset is in {@code dir}; else disabled with a reason naming the package. */
    public static ConditionEvaluationResult evaluate(Path dir) {
        if (FashionMnist.available(dir)) {
            return ConditionEvaluationResult.enabled("Fashion-MNIST found in " + dir);
        }
        return ConditionEvaluationResult.disabled("needs the optional Fashion-MNIST dataset, not found in " + dir
                + "; install the Debian package " + PACKAGE + " (apt-get install " + PACKAGE + ")");
    }
}
