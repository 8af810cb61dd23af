package io.solvertune.tuning.fit.timesteps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.dpm.DpmSolver;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.FitContext;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.fit.TunedMethods;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learned-timesteps method on the exact mixture: a poor untuned spacing is improved on the fit rows, the choice is
 * the lowest absolute selection error, the set validates against its own base (the untuned spacing), samples as its
 * base on its explicit grid, and round-trips; with no optimisation budget the published grid is the untuned one.
 */
class LearnedTimestepsTest {
    static GaussianMixtureDenoiser model;
    static final Guidance G = Guidance.perSeed(1.0);
    static Evaluation.Targets fitRows;
    static Evaluation.Targets select;
    static Evaluation.Targets heldOut;

    @TempDir
    static Path dir;

    @BeforeAll
    static void init() throws Exception {
        io.solvertune.tuning.eval.MixtureRows rows = io.solvertune.tuning.eval.MixtureRows.make(dir, G, 64, 32, 7000,
                64);
        model = rows.model();
        fitRows = rows.fit();
        select = rows.select();
        heldOut = rows.heldOut();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static FitContext context() {
        return new FitContext(model, G, fitRows.seeds(), fitRows.initial(), fitRows.sampleShape(), fitRows.tStart(),
                fitRows.tEnd(), DataType.FLOAT64, 32, Progress.NONE, null);
    }

    static final LearnedTimesteps.Variant UNIFORM = new LearnedTimesteps.Variant(DpmSolver.plusPlusMultistep(2),
            new TimestepSpacing.TimeUniform());

    @Test
    void improvesAPoorSpacingAndChoosesByAbsoluteSelectionError() {
        LearnedTimesteps.Settings s = new LearnedTimesteps.Settings(new TimestepOptimizer.Settings(80, 0.5, 0, 3L),
                new GitsInitialiser.Settings(20, new TimestepSpacing.LogSnr(), 200), 8);
        LearnedTimesteps.Outcome r = LearnedTimesteps.run(context(), fitRows, select, heldOut, 4, List.of(UNIFORM),
                null, s);
        LearnedTimesteps.Learned l = r.learned().get(0);
        assertTrue(l.gitsGrid() != null && l.result().startLosses().length == 2);
        assertTrue(l.result().improved());
        assertTrue(l.result().loss() < 0.5 * l.result().startLosses()[0],
                "learned " + l.result().loss() + " vs time_uniform " + l.result().startLosses()[0]);
        // the choice is the lowest selection error of {learned, untuned}
        double min = Math.min(r.selects().get(0).meanMse(), r.selects().get(1).meanMse());
        assertEquals(min, r.select().meanMse(), 0.0);
        CoefficientSet set = r.chosen();
        assertEquals(CoefficientSet.Method.TIMESTEPS, set.method());
        assertTrue(set.isNeutral());
        if (set.baseSpacing() != null) {
            assertEquals(new TimestepSpacing.TimeUniform(), set.baseSpacing());
            assertArrayEquals(set.times(), ((TimestepSpacing.Explicit) set.spacing()).timesteps(), 0.0);
        }
        // validated against its own base: the untuned spacing, on the same held-out seeds
        Evaluation.Result base = Evaluation.evaluate(model, G, heldOut, TunedMethods.baseCandidate(set), 4, 64,
                DataType.FLOAT64, 0).result();
        assertEquals(base.meanMse(), set.validation().baseMse(), 0.0);
        assertEquals(r.heldOut().meanMse(), set.validation().mse(), 0.0);
        assertNull(set.validation().baseline());
        // the set is its base solver on its grid, and round-trips with its provenance
        assertEquals(set.base(), MethodCatalog.spec(set));
        CoefficientSet back = CoefficientSet.fromJson(set.toJson());
        assertEquals(set, back);
        assertTrue(set.provenance().settings().containsKey("trace"));
        assertTrue(set.provenance().settings().containsKey("gitsGrid"));
    }

    @Test
    void withoutBudgetThePublishedGridIsTheUntunedOne() {
        LearnedTimesteps.Settings s = new LearnedTimesteps.Settings(new TimestepOptimizer.Settings(1, 0.3, 0, 0L),
                null, 1);
        LearnedTimesteps.Outcome r = LearnedTimesteps.run(context(), fitRows, select, heldOut, 4, List.of(UNIFORM),
                null, s);
        double[] uniform = new TimestepSpacing.TimeUniform().times(model.schedule(), fitRows.tStart(), fitRows.tEnd(),
                4);
        assertArrayEquals(uniform, r.chosen().times(), 0.0);
        assertEquals(r.chosen().validation().mse(), r.chosen().validation().baseMse(), 0.0);
        assertEquals(CoefficientSet.Verdict.TIE, r.chosen().validation().vsBase());
    }

    @Test
    void jointMethodFitsCoefficientsOnTheLearnedGridAndKeepsTheUntunedBase() {
        LearnedTimesteps.Settings s = new LearnedTimesteps.Settings(new TimestepOptimizer.Settings(30, 0.5, 0, 1L),
                null, 1);
        TunedMethods.Method dode = MethodCatalog.method("dode-teacher");
        TunedMethods.Method jm = LearnedTimesteps.joint(dode, fitRows, UNIFORM, s);
        assertEquals("dode-teacher+timesteps", jm.name());
        assertEquals(UNIFORM.solver(), jm.variants().get(0).base());
        CoefficientSet fitted = jm.fitter().fit(context(), UNIFORM.solver(), UNIFORM.spacing(), 4);
        assertEquals(CoefficientSet.Method.DODE, fitted.method());
        assertTrue(fitted.spacing() instanceof TimestepSpacing.Explicit);
        assertEquals(new TimestepSpacing.TimeUniform(), fitted.baseSpacing());
        assertEquals(new TimestepSpacing.TimeUniform(), TunedMethods.baseCandidate(fitted).spacing());
        // the grid it was fitted on is the learned one (not the untuned grid)
        double[] uniform = new TimestepSpacing.TimeUniform().times(model.schedule(), fitRows.tStart(), fitRows.tEnd(),
                4);
        assertTrue(!java.util.Arrays.equals(uniform, fitted.times()));
    }
}
