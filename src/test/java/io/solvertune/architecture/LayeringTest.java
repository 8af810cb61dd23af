package io.solvertune.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layers of {@code ../shared/design.md}, enforced on the compiled main classes: numerics at the bottom, tuning on
 * top of it, then the service and the command line; numerics and tuning import no framework (Quarkus, Jakarta,
 * Hibernate, Vert.x, MicroProfile, SmallRye, picocli), and no package depends on a package that depends back on it.
 */
class LayeringTest {

    private static final String[] FRAMEWORKS = {"io.quarkus..", "jakarta..", "javax.ws..", "javax.persistence..",
        "org.hibernate..", "io.vertx..", "org.eclipse.microprofile..", "io.smallrye..", "picocli..", "org.jboss.."};

    static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.solvertune");
    }

    /** numerics imports no framework and nothing of the layers above it. */
    static ArchRule numericsRule(String root) {
        return noClasses().that().resideInAPackage(root + ".numerics..")
                .should().dependOnClassesThat().resideInAnyPackage(concat(FRAMEWORKS,
                        root + ".tuning..", root + ".service..", root + ".cli.."));
    }

    /** tuning imports no framework, and neither the service nor the command line. */
    static ArchRule tuningRule(String root) {
        return noClasses().that().resideInAPackage(root + ".tuning..")
                .should().dependOnClassesThat().resideInAnyPackage(concat(FRAMEWORKS,
                        root + ".service..", root + ".cli.."));
    }

    @Test
    void numericsImportsNoFrameworkAndNothingAboveIt() {
        numericsRule("io.solvertune").check(main);
    }

    @Test
    void tuningImportsNoFrameworkAndNeitherServiceNorCli() {
        tuningRule("io.solvertune").check(main);
    }

    /** The rules catch what they are for: a fixture tree with one violation of each is refused. */
    @Test
    void theRulesCatchViolations() {
        JavaClasses fixture = new ClassFileImporter().importPackages("io.solvertune.architecture.fixture");
        String root = "io.solvertune.architecture.fixture";
        org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> numericsRule(root).check(fixture));
        org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> tuningRule(root).check(fixture));
        org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> slices().matching(root + ".(**)").should().beFreeOfCycles().check(fixture));
    }

    @Test
    void theServiceDoesNotUseTheCommandLine() {
        noClasses().that().resideInAPackage("io.solvertune.service..")
                .should().dependOnClassesThat().resideInAPackage("io.solvertune.cli..").check(main);
    }

    /** The Java client library is for other JVM programs: HTTP and Jackson only, none of the service's code. */
    @Test
    void theClientLibraryStandsAlone() {
        noClasses().that().resideInAPackage("io.solvertune.client..")
                .should().dependOnClassesThat().resideInAnyPackage(concat(FRAMEWORKS, "io.solvertune.numerics..",
                        "io.solvertune.tuning..", "io.solvertune.service..", "io.solvertune.cli..",
                        "io.solvertune.exports.."))
                .check(main);
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.solvertune.(**)").should().beFreeOfCycles().check(main);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
