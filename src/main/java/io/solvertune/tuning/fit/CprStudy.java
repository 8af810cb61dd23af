package io.solvertune.tuning.fit;

import io.solvertune.tuning.eval.Candidate;
import io.solvertune.numerics.solver.dc.Dc;
import io.solvertune.tuning.eval.Evaluation;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.teacher.Teacher;
import io.solvertune.tuning.teacher.TeacherSettings;
import io.solvertune.tuning.teacher.TrajectorySet;
import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.solver.SolverSpec;
import io.solvertune.numerics.schedule.ScheduleSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * DC-Solver's cascade polynomial regression fitted on our own searches: DC ratios are searched ({@link DcFitter}) at
 * every (NFE, guidance) of a training grid, one {@link CascadePolynomialRegression} is fitted over all of them, and
 * its predicted ratios are scored on held-out seeds at (NFE, guidance) points it did not see — against the plain base
 * solver and against ratios searched directly at that point. This is what CPR is for: ratios for a configuration
 * without searching it.
 */
public final class CprStudy {

    /** One (NFE, guidance) configuration. */
    public record Point(int nfe, double guidance) {
        public Point {
            if (nfe < 3) {
                throw new IllegalArgumentException("cpr: nfe must be >= 3 (the first two ratios are fixed), got " + nfe);
            }
            if (!Double.isFinite(guidance)) {
                throw new IllegalArgumentException("cpr: guidance must be finite");
            }
        }
    }

    /**
     * What to run.
     *
     * @param model        the denoiser
     * @param modelHash    its hash (teacher provenance)
     * @param scheduleSpec its schedule (teacher provenance)
     * @param conditioning the conditioning; its scale is replaced by each point's guidance
     * @param base         the DC base solver (UniPC for the official setting; its NFE must equal its steps)
     * @param spacing      the grid of every DC run
     * @param train        the configurations the regression is fitted on
     * @param test         the configurations it is scored on (searched too, for comparison)
     * @param fitSeeds     seeds of the search samples
     * @param heldOutSeeds seeds every configuration is scored on
     * @param teacher      the held-out teacher (its final states are the targets)
     * @param dc           search settings
     */
    public record Request(Denoiser model, String modelHash, ScheduleSpec scheduleSpec, Guidance conditioning,
                          SolverSpec base, TimestepSpacing spacing, List<Point> train, List<Point> test,
                          long[] fitSeeds, long[] heldOutSeeds, TeacherSettings teacher, DcFitter.Settings dc,
                          int batch, DataType dtype) {
        public Request {
            Objects.requireNonNull(model, "cpr: model is required");
            Objects.requireNonNull(base, "cpr: base is required");
            Objects.requireNonNull(spacing, "cpr: spacing is required");
            if (train == null || train.isEmpty() || test == null) {
                throw new IllegalArgumentException("cpr: train points are required");
            }
            train = List.copyOf(train);
            test = List.copyOf(test);
            for (Point p : test) {
                if (train.contains(p)) {
                    throw new IllegalArgumentException("cpr: test point " + p + " is also a training point");
                }
            }
            if (fitSeeds == null || fitSeeds.length == 0 || heldOutSeeds == null || heldOutSeeds.length < 2) {
                throw new IllegalArgumentException("cpr: fit seeds and at least two held-out seeds are required");
            }
            java.util.Set<Long> fit = new java.util.HashSet<>();
            for (long s : fitSeeds) {
                fit.add(s);
            }
            for (long s : heldOutSeeds) {
                if (fit.contains(s)) {
                    throw new IllegalArgumentException("cpr: held-out seed " + s + " is also a fit seed");
                }
            }
        }
    }

    /**
     * One configuration scored on held-out seeds.
     *
     * @param seen      whether the regression was fitted on it
     * @param searched  ratios searched at this point
     * @param predicted ratios the regression predicts
     */
    public record Row(Point point, boolean seen, double[] searched, double[] predicted, Evaluation.Result base,
                      Evaluation.Result searchedResult, Evaluation.Result predictedResult, double searchSeconds) {

        /** Verdict of the predicted ratios against the plain base ("yes", "tie", "no (worse)"). */
        public String predictedVsBase() {
            return predictedResult.verdict(base);
        }

        /** Verdict of the predicted ratios against the ratios searched here. */
        public String predictedVsSearched() {
            return predictedResult.verdict(searchedResult);
        }
    }

    /** The regression, its fit over the training searches, and every scored configuration. */
    public record Result(CascadePolynomialRegression.Fit fit, List<Row> rows, double seconds) {
    }

    private CprStudy() {
    }

    public static Result run(Request r, Path workDir, Progress progress) throws IOException {
        long t0 = System.nanoTime();
        NoiseSchedule ns = r.model().schedule();
        int per = Teacher.perSample(r.model().sampleShape());
        double tStart = ns.defaultTStart();
        double tEnd = ns.defaultTEnd();
        double[] fitNoise = Seeds.initialNoise(r.fitSeeds(), per, Seeds.noiseScale(ns, tStart));

        List<Point> all = new ArrayList<>(r.train());
        all.addAll(r.test());
        // held-out targets per guidance scale (the teacher's final states)
        Map<Double, Evaluation.Targets> targets = new LinkedHashMap<>();
        for (double g : new TreeSet<>(all.stream().map(Point::guidance).toList())) {
            Guidance cond = withScale(r.conditioning(), g);
            TrajectorySet ho = Teacher.run(new Teacher.Request(r.model(), r.modelHash(), r.scheduleSpec(), cond,
                    r.heldOutSeeds(), r.teacher()), workDir.resolve(String.format(Locale.ROOT, "heldout-g%s",
                    trim(g))), progress);
            targets.put(g, Evaluation.Targets.load(ho, 0, ho.size()));
        }

        // searches
        Map<Point, double[]> searched = new LinkedHashMap<>();
        Map<Point, Double> seconds = new LinkedHashMap<>();
        int done = 0;
        for (Point p : all) {
            long s0 = System.nanoTime();
            FitContext ctx = new FitContext(r.model(), withScale(r.conditioning(), p.guidance()), r.fitSeeds(),
                    fitNoise, r.model().sampleShape(), tStart, tEnd, r.dtype(), r.batch(), Progress.NONE, null);
            CoefficientSet set = DcFitter.fit(ctx, r.base(), r.spacing(), p.nfe(), r.dc());
            if (set.steps() != p.nfe()) {
                throw new IllegalArgumentException("cpr: base " + r.base().label() + " spends " + p.nfe() + " NFE in "
                        + set.steps() + " steps; the regression needs one ratio per NFE (use a multistep base)");
            }
            double[] ratios = new double[set.steps()];
            double[][] v = set.values();
            for (int i = 0; i < ratios.length; i++) {
                ratios[i] = v[i][0];
            }
            searched.put(p, ratios);
            seconds.put(p, (System.nanoTime() - s0) / 1e9);
            progress.report("cpr-search", ++done, all.size(), String.format(Locale.ROOT, "NFE %d guidance %s: %s",
                    p.nfe(), trim(p.guidance()), java.util.Arrays.toString(ratios)));
        }

        List<CascadePolynomialRegression.Sample> samples = new ArrayList<>();
        for (Point p : r.train()) {
            samples.add(new CascadePolynomialRegression.Sample(p.nfe(), p.guidance(), searched.get(p)));
        }
        CascadePolynomialRegression.Fit fit = CascadePolynomialRegression.fit(samples);

        List<Row> rows = new ArrayList<>();
        for (Point p : all) {
            Guidance cond = withScale(r.conditioning(), p.guidance());
            Evaluation.Targets t = targets.get(p.guidance());
            double[] predicted = fit.model().predict(p.nfe(), p.guidance());
            // the regression's ratios are a polynomial: clamp them to the search bounds, as the searched ones are
            for (int i = 0; i < predicted.length; i++) {
                predicted[i] = Math.max(r.dc().lower(), Math.min(r.dc().upper(), predicted[i]));
            }
            Evaluation.Result base = score(r, cond, t, p, r.base(), "base");
            Evaluation.Result s = score(r, cond, t, p, new Dc(r.base(), searched.get(p)), "searched");
            Evaluation.Result c = score(r, cond, t, p, new Dc(r.base(), predicted), "cpr");
            rows.add(new Row(p, r.train().contains(p), searched.get(p), predicted, base, s, c, seconds.get(p)));
        }
        return new Result(fit, rows, (System.nanoTime() - t0) / 1e9);
    }

    private static Evaluation.Result score(Request r, Guidance cond, Evaluation.Targets t, Point p, SolverSpec spec,
                                           String name) {
        Candidate c = new Candidate(name, spec, r.spacing(), true, false, null, null);
        return Evaluation.evaluate(r.model(), cond, t, c, p.nfe(), r.batch(), r.dtype(), 0).result();
    }

    static Guidance withScale(Guidance g, double scale) {
        return new Guidance(g.classLabel(), scale, g.perSeedClass());
    }

    static String trim(double g) {
        return g == Math.rint(g) ? Long.toString((long) g) : Double.toString(g);
    }
}
