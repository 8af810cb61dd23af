package io.solvertune.tuning.fit.timesteps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.coeff.EmpiricalModelStatistics;
import io.solvertune.numerics.coeff.EmsGrid;
import io.solvertune.numerics.coeff.EmsIntegrals;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SamplerConfig;
import io.solvertune.numerics.solver.v3.DpmSolverV3;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.publish.ConfigValues;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DPM-Solver-v3 as a learned-timesteps variant (issue 17): it starts from the snapped grid and samples there as the
 * snapped sampler does; CMA-ES moves its times off the statistics grid and lowers the fit loss; the learned grid
 * round-trips through DPM-Solver-v3 config values.
 */
class LearnedTimestepsV3Test {
    static EmpiricalModelStatistics ems;

    @TempDir
    static Path dir;

    @BeforeAll
    static void init() throws Exception {
        // the fixtures of LearnedTimestepsTest (exact mixture, 64 + 64 teacher seeds), in this class's directory
        LearnedTimestepsTest.dir = dir;
        LearnedTimestepsTest.init();
        Evaluation.Targets f = LearnedTimestepsTest.fitRows;
        // neutral statistics (l = 1, s = b = 0: DPM-Solver++ up to quadrature) on the teacher's time range
        ems = EmpiricalModelStatistics.degenerate(new EmsGrid(250, f.tStart(), f.tEnd()), f.sampleShape());
    }

    @AfterAll
    static void close() {
        LearnedTimestepsTest.close();
    }

    @Test
    void v3StartsFromItsSnappedGridAndLearnsOffIt() {
        Evaluation.Targets fit = LearnedTimestepsTest.fitRows;
        NoiseSchedule ns = LearnedTimestepsTest.model.schedule();
        int nfe = 4;
        DpmSolverV3 snapped = new DpmSolverV3(ems, 2, false, true, true, false, false, null);
        TimestepSpacing uniform = new TimestepSpacing.TimeUniform();
        LearnedTimesteps.Variant v = LearnedTimesteps.Variant.dpmSolverV3(snapped, uniform, ns, fit.tStart(),
                fit.tEnd(), nfe);
        assertEquals(DpmSolverV3.Positions.INTERPOLATED, ((DpmSolverV3) v.solver()).positions());
        double[] snappedTimes = snapped.create().grid(ns, new SamplerConfig(snapped, uniform, nfe, ems.tStart(),
                ems.tEnd(), true, false), ems.tStart(), ems.tEnd());
        double[] start = v.spacing().times(ns, fit.tStart(), fit.tEnd(), nfe);
        assertEquals(fit.tStart(), start[0], 0.0);
        assertEquals(fit.tEnd(), start[nfe], 0.0);
        for (int i = 0; i <= nfe; i++) {
            assertEquals(snappedTimes[i], start[i], 1e-13 * snappedTimes[i]);
        }
        // on its start grid the variant is the snapped sampler
        Evaluation.Targets sel = LearnedTimestepsTest.select;
        Evaluation.Result a = Evaluation.evaluate(LearnedTimestepsTest.model, LearnedTimestepsTest.G, sel,
                new Candidate("snapped", snapped, uniform, true, false, ems.tStart(), ems.tEnd()), nfe, 32,
                DataType.FLOAT64, 0).result();
        Evaluation.Result b = Evaluation.evaluate(LearnedTimestepsTest.model, LearnedTimestepsTest.G, sel,
                new Candidate("start", v.solver(), v.spacing(), true, false, null, null), nfe, 32, DataType.FLOAT64,
                0).result();
        assertEquals(a.meanMse(), b.meanMse(), 1e-10 * a.meanMse());

        LearnedTimesteps.Settings s = new LearnedTimesteps.Settings(new TimestepOptimizer.Settings(60, 0.5, 0, 5L),
                null, 1);
        LearnedTimesteps.Outcome r = LearnedTimesteps.run(LearnedTimestepsTest.context(), fit, sel,
                LearnedTimestepsTest.heldOut, nfe, List.of(v), null, s);
        assertTrue(r.failures().isEmpty(), r.failures().toString());
        LearnedTimesteps.Learned l = r.learned().get(0);
        assertTrue(l.result().improved() && l.result().loss() < l.result().startLosses()[0],
                "learned " + l.result().loss() + " vs snapped " + l.result().startLosses()[0]);
        double[] grid = l.result().grid();
        EmsIntegrals in = ems.integrals(ns);
        boolean offGrid = false;
        for (int i = 1; i < nfe; i++) {
            double u = in.position(ns.lambda(grid[i]), 1e-9);
            offGrid |= u != Math.rint(u);
        }
        assertTrue(offGrid, "CMA-ES moved the times off the statistics grid");

        // the learned set: v3 with interpolated positions on the learned grid, reproducing its fit loss and
        // round-tripping through config values
        CoefficientSet set = LearnedTimesteps.set(LearnedTimestepsTest.context(), l, true);
        assertEquals(v.solver(), set.base());
        assertEquals(v.spacing(), set.baseSpacing(), "its own base: the snapped v3");
        Evaluation.Result onFit = Evaluation.evaluate(LearnedTimestepsTest.model, LearnedTimestepsTest.G, fit,
                LearnedTimesteps.candidate(set), nfe, 32, DataType.FLOAT64, 0).result();
        assertEquals(l.result().loss(), onFit.meanMse(), 1e-9 * onFit.meanMse());
        ConfigValues values = ConfigValues.ofDpmSolverV3((DpmSolverV3) set.base(), set.spacing(), nfe, true, false,
                set.times());
        ConfigValues back = ConfigValues.parse(values.toJson());
        Evaluation.Result again = Evaluation.evaluate(LearnedTimestepsTest.model, LearnedTimestepsTest.G, fit,
                new Candidate("values", back.samplerConfig().solver(), back.samplerConfig().spacing(), true, false,
                        null, null), nfe, 32, DataType.FLOAT64, 0).result();
        assertEquals(onFit.meanMse(), again.meanMse(), 0.0);
        assertArrayEquals(grid, back.times(), 0.0);
    }

    @Test
    void statisticsForAnotherTimeRangeAreRefused() {
        Evaluation.Targets fit = LearnedTimestepsTest.fitRows;
        EmpiricalModelStatistics other = EmpiricalModelStatistics.degenerate(new EmsGrid(100, fit.tStart(),
                fit.tEnd() * 2), fit.sampleShape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LearnedTimesteps.Variant
                .dpmSolverV3(DpmSolverV3.of(other, 2), new TimestepSpacing.LogSnr(),
                        LearnedTimestepsTest.model.schedule(), fit.tStart(), fit.tEnd(), 5));
        assertTrue(e.getMessage().contains("statistics cover"), e.getMessage());
    }
}
