package io.solvertune.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.io.TempDir;

/** Tests that need the optional dataset are skipped without it, with a message naming the Debian package. */
class FashionMnistConditionTest {

    @Test
    void missingDatasetDisablesNamingThePackage(@TempDir Path empty) {
        ConditionEvaluationResult r = FashionMnistCondition.evaluate(empty);
        assertTrue(r.isDisabled());
        String reason = r.getReason().orElse("");
        assertTrue(reason.contains("apt-get install dataset-fashion-mnist"), reason);
        assertTrue(reason.contains(empty.toString()), reason);
    }

    @Test
    void presentDatasetEnables(@TempDir Path dir) throws IOException {
        Files.createFile(dir.resolve("train-images-idx3-ubyte.gz"));
        Files.createFile(dir.resolve("train-labels-idx1-ubyte.gz"));
        assertFalse(FashionMnistCondition.evaluate(dir).isDisabled());
    }
}
