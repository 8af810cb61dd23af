package io.solvertune.tuning.fit.consistency;

import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.consistency.Consistency;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.fit.CoefficientSet;
import io.solvertune.tuning.fit.MethodCatalog;
import io.solvertune.tuning.fit.timesteps.FinalStateObjective;
import io.solvertune.tuning.fit.timesteps.GridParameterisation;
import io.solvertune.tuning.fit.timesteps.TimestepOptimizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The alternating step of issue 17 for ConsistencySolver: with a trained table's coefficients fixed, its grid is
 * optimised for it. CMA-ES ({@link TimestepOptimizer}) over the same monotone parameterisation as learned timesteps
 * ({@link GridParameterisation}, LD3's softmax-cumsum) minimises the same objective ({@link FinalStateObjective}: the
 * mean per-seed MSE to the teacher's final state on the fit rows), starting from the table's own grid, which is
 * returned bit for bit unless a grid beats it on the fit rows. A grid that does is then kept only if its absolute error
 * on the selection rows is lower than the start grid's; otherwise the table stays as it was.
 */
public final class GridRefinement {

    /** Suffix of the refined tables' method name ({@code consistency-solver+grid}). */
    public static final String METHOD_SUFFIX = "+grid";

    /**
     * Refinement settings.
     *
     * @param evaluations loss evaluations on the fit rows in total (the start grid included), 1..{@link #MAX_EVALUATIONS}
     * @param sigma       initial CMA-ES step in the log step sizes (0.3: steps change by ~30 %)
     * @param seed        CMA-ES seed
     */
    public record Settings(int evaluations, double sigma, long seed) {
        /** Default budget of evaluations. */
        public static final int DEFAULT_EVALUATIONS = 60;
        /** Hard limit on the budget (each evaluation costs fit rows x NFE model calls). */
        public static final int MAX_EVALUATIONS = 10_000;

        public Settings {
            if (evaluations < 1 || evaluations > MAX_EVALUATIONS) {
                throw new IllegalArgumentException("refine evaluations must be in 1.." + MAX_EVALUATIONS + ", got "
                        + evaluations);
            }
            if (!(sigma > 0) || !Double.isFinite(sigma)) {
                throw new IllegalArgumentException("refine sigma must be positive, got " + sigma);
            }
        }

        /** {@code evaluations} with sigma 0.3 and seed 0 (the learned timesteps' defaults). */
        public static Settings of(int evaluations) {
            return new Settings(evaluations, TimestepOptimizer.Settings.defaults().sigma(), 0L);
        }

        /** As recorded in provenance. */
        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("optimizer", "cma-es");
            m.put("evaluations", evaluations);
            m.put("sigma", sigma);
            m.put("seed", seed);
            return m;
        }
    }

    /**
     * The refinement of one table.
     *
     * @param startGrid          the table's own grid
     * @param optimisation       CMA-ES's result on the fit rows (its grid: the best seen, the start when not beaten)
     * @param startSelectionMse  the table's mean MSE on the selection rows on its own grid (NaN when the optimiser did
     *                           not beat the start: nothing to choose)
     * @param refinedSelectionMse the same on the optimised grid (NaN likewise)
     * @param chosen             whether the optimised grid is kept: it beat the start on the fit rows and then on the
     *                           selection rows
     */
    public record Outcome(double[] startGrid, TimestepOptimizer.Result optimisation, double startSelectionMse,
                          double refinedSelectionMse, boolean chosen) {
        public Outcome {
            startGrid = startGrid.clone();
        }

        @Override
        public double[] startGrid() {
            return startGrid.clone();
        }

        /** The grid the table runs on after the refinement: the optimised one if chosen, else its own (same bits). */
        public double[] grid() {
            return chosen ? optimisation.grid() : startGrid.clone();
        }

        /** The optimisation trace for provenance: grids, losses, evaluations, selection losses. */
        public Map<String, Object> asMap(Settings s) {
            Map<String, Object> m = new LinkedHashMap<>(s.asMap());
            m.put("startGrid", startGrid);
            m.put("optimisedGrid", optimisation.grid());
            m.put("grid", grid());
            m.put("evaluationsDone", optimisation.evaluations());
            m.put("startLoss", optimisation.startLosses()[0]);
            m.put("loss", optimisation.loss());
            m.put("improvedOnFitRows", optimisation.improved());
            if (!Double.isNaN(startSelectionMse)) {
                m.put("startSelectionMse", startSelectionMse);
                m.put("selectionMse", refinedSelectionMse);
            }
            m.put("chosen", chosen);
            List<List<Number>> trace = new ArrayList<>();
            for (TimestepOptimizer.TracePoint tp : optimisation.trace()) {
                trace.add(List.of(tp.evaluation(), tp.loss()));
            }
            m.put("trace", trace);
            return m;
        }
    }

    private GridRefinement() {
    }

    /**
     * The table's grid optimised for it.
     *
     * @param model     the denoiser (not closed)
     * @param guidance  conditioning and guidance scale
     * @param fit       the fit rows (the objective)
     * @param select    the selection rows (the choice); must not overlap {@code fit}
     * @param table     a ConsistencySolver set (its {@code times} are the start grid)
     * @param batch     rows per sampling batch
     * @param dtype     arithmetic
     * @param settings  budget, step, seed
     * @param journal   every evaluation's loss (resume)
     */
    public static Outcome refine(Denoiser model, Guidance guidance, Evaluation.Targets fit, Evaluation.Targets select,
                                 CoefficientSet table, int batch, DataType dtype, Settings settings,
                                 TimestepOptimizer.Journal journal) {
        Objects.requireNonNull(table, "refine: table is required");
        Objects.requireNonNull(settings, "refine: settings are required");
        if (table.method() != CoefficientSet.Method.CONSISTENCY) {
            throw new IllegalArgumentException("refine: a ConsistencySolver table is required, got "
                    + table.method().name().toLowerCase(java.util.Locale.ROOT));
        }
        Consistency spec = (Consistency) MethodCatalog.spec(table);
        double[] start = table.times();
        int nfe = table.nfe();
        if (start.length != nfe + 1) {
            throw new IllegalArgumentException("refine: the table has " + (start.length - 1) + " steps for NFE " + nfe);
        }
        if (start[0] != fit.tStart() || start[nfe] != fit.tEnd()) {
            throw new IllegalArgumentException("refine: the table's grid runs from " + start[0] + " to " + start[nfe]
                    + ", the teacher from " + fit.tStart() + " to " + fit.tEnd());
        }
        // the coefficients without their times: the objective's explicit grid is what runs
        Consistency free = spec.withTimes(null);
        FinalStateObjective onFit = new FinalStateObjective(model, guidance, fit, free, true, nfe, batch, dtype);
        GridParameterisation p = new GridParameterisation(model.schedule(), fit.tStart(), fit.tEnd(), nfe);
        TimestepOptimizer.Result r = TimestepOptimizer.optimize(p, g -> onFit.evaluate(g).meanMse(), List.of(start),
                new TimestepOptimizer.Settings(settings.evaluations(), settings.sigma(), 0, settings.seed()), journal);
        if (!r.improved()) {
            return new Outcome(start, r, Double.NaN, Double.NaN, false);
        }
        FinalStateObjective onSel = new FinalStateObjective(model, guidance, select, free, true, nfe, batch, dtype);
        double s0 = onSel.evaluate(start).meanMse();
        double s1 = onSel.evaluate(r.grid()).meanMse();
        return new Outcome(start, r, s0, s1, s1 < s0);
    }

    /**
     * The refined table: the same coefficients on the outcome's grid (an explicit spacing whose base spacing is the
     * table's own, unless that was already explicit), the refinement in its provenance settings under
     * {@code gridRefinement}, no validation.
     */
    public static CoefficientSet refinedSet(CoefficientSet table, Outcome o, Settings s) {
        double[] grid = o.grid();
        Map<String, Object> settings = new LinkedHashMap<>();
        CoefficientSet.Provenance p = table.provenance();
        if (p != null && p.settings() != null) {
            settings.putAll(p.settings());
        }
        settings.put("gridRefinement", o.asMap(s));
        CoefficientSet.Provenance prov = p == null ? null : new CoefficientSet.Provenance(p.modelHash(), p.schedule(),
                p.guidance(), p.teacher(), p.trainSeeds(), p.codeVersion(), p.createdAt(), settings);
        TimestepSpacing from = table.spacing() instanceof TimestepSpacing.Explicit ? table.baseSpacing()
                : table.spacing();
        return new CoefficientSet(table.formatVersion(), table.method(), table.base(), new TimestepSpacing.Explicit(grid),
                table.steps(), table.nfe(), grid, table.columns(), table.values(), table.fit(), null, prov, from);
    }
}
