package io.solvertune.tuning.fit.consistency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.numerics.solver.ddim.Ddim;
import io.solvertune.tuning.eval.Candidate;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.fit.timesteps.FileJournal;
import io.solvertune.tuning.fit.timesteps.TimestepOptimizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The grid refinement of a fixed ConsistencySolver table on the exact mixture: a table whose grid was moved off a good
 * (logSNR-uniform) grid is refined back to a lower error on the fit, selection and held-out rows, its coefficients
 * untouched; a start the budget cannot beat comes back bit for bit; an interrupted refinement resumes from its journal
 * to the same grid; the refined set runs its own times.
 */
class GridRefinementTest {
    static GaussianMixtureDenoiser model;
    static final Guidance G = Guidance.perSeed(1.0);
    static Evaluation.Targets fit;
    static Evaluation.Targets select;
    static Evaluation.Targets heldOut;
    static final int NFE = 5;

    @TempDir
    static Path dir;

    @BeforeAll
    static void init() throws Exception {
        io.solvertune.tuning.eval.MixtureRows rows = io.solvertune.tuning.eval.MixtureRows.make(dir, G, 48, 24, 7000,
                48);
        model = rows.model();
        fit = rows.fit();
        select = rows.select();
        heldOut = rows.heldOut();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** A logSNR-uniform grid: a good grid for DDIM-like first-order steps. */
    static double[] logSnrGrid() {
        NoiseSchedule s = model.schedule();
        double l0 = s.lambda(fit.tStart());
        double l1 = s.lambda(fit.tEnd());
        double[] t = new double[NFE + 1];
        t[0] = fit.tStart();
        t[NFE] = fit.tEnd();
        for (int i = 1; i < NFE; i++) {
            t[i] = s.inverseLambda(l0 + (l1 - l0) * i / NFE);
        }
        return t;
    }

    /** The good grid perturbed: every interior time moved towards the noisy end (large early steps wasted). */
    static double[] perturbed() {
        double[] g = logSnrGrid();
        for (int i = 1; i < NFE; i++) {
            g[i] = g[i] + 0.6 * (g[i - 1] - g[i]);
        }
        return g;
    }

    /** A data-form order-3 table with small fixed coefficients on {@code grid}. */
    static CoefficientSet table(double[] grid) {
        int order = 3;
        double[][] v = new double[NFE][];
        for (int i = 0; i < NFE; i++) {
            v[i] = new double[Consistency.columns(order, i)];
            for (int j = 0; j < v[i].length; j++) {
                v[i][j] = j == 0 ? 0.1 : -0.05;
            }
        }
        return new CoefficientSet(CoefficientSet.FORMAT_VERSION, CoefficientSet.Method.CONSISTENCY, new Ddim(),
                new TimestepSpacing.Explicit(grid), NFE, NFE, grid, Consistency.columnNames(order), v, null, null,
                new CoefficientSet.Provenance(null, null, G, null, null, null, null, java.util.Map.of("trainer",
                        "test")), null);
    }

    static double mse(CoefficientSet set, Evaluation.Targets rows) {
        Candidate c = new Candidate("t", MethodCatalog.spec(set), set.spacing(), true, false, null, null);
        return Evaluation.evaluate(model, G, rows, c, NFE, 64, DataType.FLOAT64, 0).result().meanMse();
    }

    @Test
    void aPerturbedGridIsRefinedBackToALowerErrorWithTheSameCoefficients() {
        CoefficientSet t = table(perturbed());
        GridRefinement.Settings s = new GridRefinement.Settings(60, 0.3, 0L);
        GridRefinement.Outcome o = GridRefinement.refine(model, G, fit, select, t, 64, DataType.FLOAT64, s,
                TimestepOptimizer.Journal.NONE);
        assertTrue(o.optimisation().improved());
        assertTrue(o.chosen(), "selection " + o.refinedSelectionMse() + " vs " + o.startSelectionMse());
        assertTrue(o.optimisation().loss() < 0.8 * o.optimisation().startLosses()[0],
                o.optimisation().loss() + " vs " + o.optimisation().startLosses()[0]);
        CoefficientSet r = GridRefinement.refinedSet(t, o, s);
        assertTrue(java.util.Arrays.deepEquals(t.values(), r.values()));
        assertArrayEquals(o.grid(), r.times());
        assertArrayEquals(o.grid(), ((Consistency) MethodCatalog.spec(r)).times());
        assertEquals(o.refinedSelectionMse(), mse(r, select));
        assertEquals(o.startSelectionMse(), mse(t, select));
        double before = mse(t, heldOut);
        double after = mse(r, heldOut);
        assertTrue(after < before, after + " vs " + before);
        // the refined grid moved back towards the good one: closer to it than the perturbed start, in every time
        double[] good = logSnrGrid();
        double dStart = 0;
        double dRefined = 0;
        for (int i = 1; i < NFE; i++) {
            dStart += Math.abs(Math.log(perturbed()[i] / good[i]));
            dRefined += Math.abs(Math.log(o.grid()[i] / good[i]));
        }
        assertTrue(dRefined < dStart, dRefined + " vs " + dStart);
        // round trip through JSON: the same times and coefficients, and the provenance records the optimisation
        CoefficientSet back = CoefficientSet.fromJson(r.toJson());
        assertArrayEquals(r.times(), back.times());
        assertEquals(MethodCatalog.spec(r), MethodCatalog.spec(back));
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> gr = (java.util.Map<String, Object>) back.provenance().settings()
                .get("gridRefinement");
        assertEquals(Boolean.TRUE, gr.get("chosen"));
        assertEquals(60, gr.get("evaluationsDone"));
    }

    @Test
    void aStartTheBudgetCannotBeatComesBackBitForBit() {
        double[] start = logSnrGrid();
        CoefficientSet t = table(start);
        GridRefinement.Outcome o = GridRefinement.refine(model, G, fit, select, t, 64, DataType.FLOAT64,
                new GridRefinement.Settings(1, 0.3, 0L), TimestepOptimizer.Journal.NONE);
        assertFalse(o.optimisation().improved());
        assertFalse(o.chosen());
        assertTrue(Double.isNaN(o.startSelectionMse()));
        assertArrayEquals(start, o.grid());
        for (int i = 0; i <= NFE; i++) {
            assertEquals(Double.doubleToRawLongBits(start[i]), Double.doubleToRawLongBits(o.grid()[i]));
        }
        CoefficientSet r = GridRefinement.refinedSet(t, o, new GridRefinement.Settings(1, 0.3, 0L));
        assertEquals(MethodCatalog.spec(t), MethodCatalog.spec(r));
    }

    @Test
    void anInterruptedRefinementResumesFromItsJournalToTheSameGrid() throws Exception {
        CoefficientSet t = table(perturbed());
        GridRefinement.Settings s = new GridRefinement.Settings(30, 0.3, 0L);
        GridRefinement.Outcome whole = GridRefinement.refine(model, G, fit, select, t, 64, DataType.FLOAT64, s,
                TimestepOptimizer.Journal.NONE);
        Path j = dir.resolve("journal.txt");
        FileJournal journal = FileJournal.open(j);
        int[] computed = {0};
        TimestepOptimizer.Journal dying = new TimestepOptimizer.Journal() {
            @Override
            public Double recorded(int index, double[] grid) {
                if (index == 12) {
                    throw new java.util.concurrent.CancellationException("killed at evaluation 12");
                }
                return journal.recorded(index, grid);
            }

            @Override
            public void record(int index, double[] grid, double loss) {
                journal.record(index, grid, loss);
            }
        };
        assertThrows(java.util.concurrent.CancellationException.class, () -> GridRefinement.refine(model, G, fit,
                select, t, 64, DataType.FLOAT64, s, dying));
        assertEquals(12, Files.readAllLines(j).size());
        FileJournal reopened = FileJournal.open(j);
        GridRefinement.Outcome resumed = GridRefinement.refine(model, G, fit, select, t, 64, DataType.FLOAT64, s,
                new TimestepOptimizer.Journal() {
                    @Override
                    public Double recorded(int index, double[] grid) {
                        Double l = reopened.recorded(index, grid);
                        if (l == null) {
                            computed[0]++;
                        }
                        return l;
                    }

                    @Override
                    public void record(int index, double[] grid, double loss) {
                        reopened.record(index, grid, loss);
                    }
                });
        assertEquals(whole.optimisation().evaluations() - 12, computed[0]);
        assertEquals(12, resumed.optimisation().replayed());
        assertArrayEquals(whole.grid(), resumed.grid());
        assertEquals(whole.optimisation().loss(), resumed.optimisation().loss());
        assertEquals(whole.refinedSelectionMse(), resumed.refinedSelectionMse());
    }

    @Test
    void refusesATableThatIsNotConsistencySolversOrRunsOffTheTeacherRange() {
        CoefficientSet t = table(logSnrGrid());
        double[] off = logSnrGrid();
        off[0] = off[0] * 0.999;
        CoefficientSet shifted = table(off);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GridRefinement.refine(model,
                G, fit, select, shifted, 64, DataType.FLOAT64, GridRefinement.Settings.of(5),
                TimestepOptimizer.Journal.NONE));
        assertTrue(e.getMessage().contains("the teacher from"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GridRefinement.Settings(0, 0.3, 0L));
        assertThrows(IllegalArgumentException.class, () -> new GridRefinement.Settings(
                GridRefinement.Settings.MAX_EVALUATIONS + 1, 0.3, 0L));
        assertEquals(GridRefinement.Settings.DEFAULT_EVALUATIONS, 60);
        assertTrue(t.times().length == NFE + 1);
    }
}
