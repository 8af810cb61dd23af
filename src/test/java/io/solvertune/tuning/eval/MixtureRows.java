package io.solvertune.tuning.eval;

import io.solvertune.numerics.model.GaussianMixtureDenoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.tuning.ModelHash;
import io.solvertune.tuning.Presets;
import io.solvertune.tuning.Progress;
import io.solvertune.tuning.Seeds;
import io.solvertune.tuning.teacher.Teacher;
import io.solvertune.tuning.teacher.TrajectorySet;
import java.nio.file.Path;

/**
 * Teacher rows of the exact gmm-sd-d32 mixture for the fitters' tests: training seeds {@code 0..train-1} split into
 * fit rows {@code [0, fitCount)} and selection rows {@code [fitCount, train)}, and {@code held} held-out seeds from
 * {@code heldFirst}, solved by {@link EvaluationTest#teacher()} into {@code dir/train} and {@code dir/held}. The caller
 * closes {@link #model}.
 */
public record MixtureRows(GaussianMixtureDenoiser model, Evaluation.Targets fit, Evaluation.Targets select,
                          Evaluation.Targets heldOut) {

    public static MixtureRows make(Path dir, Guidance guidance, int train, int fitCount, long heldFirst, int held)
            throws Exception {
        ModelSpec spec = Presets.load("gmm-sd-d32");
        GaussianMixtureDenoiser model = (GaussianMixtureDenoiser) spec.build(Presets.baseDir());
        String hash = ModelHash.of(spec, Presets.baseDir());
        TrajectorySet t = Teacher.run(new Teacher.Request(model, hash, spec.schedule(), guidance, Seeds.range(0, train),
                EvaluationTest.teacher()), dir.resolve("train"), Progress.NONE);
        TrajectorySet h = Teacher.run(new Teacher.Request(model, hash, spec.schedule(), guidance,
                Seeds.range(heldFirst, held), EvaluationTest.teacher()), dir.resolve("held"), Progress.NONE);
        return new MixtureRows(model, Evaluation.Targets.load(t, 0, fitCount), Evaluation.Targets.load(t, fitCount, train),
                Evaluation.Targets.load(h, 0, held));
    }
}
