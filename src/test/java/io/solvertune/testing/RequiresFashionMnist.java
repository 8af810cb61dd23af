package io.solvertune.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test (class or method) that needs the optional Fashion-MNIST dataset of Debian's {@code dataset-fashion-mnist}
 * package. Without it the test is skipped with a message naming the package (see {@link FashionMnistCondition});
 * {@code .ci/run} installs it, so CI runs these tests.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(FashionMnistCondition.class)
public @interface RequiresFashionMnist {
}
