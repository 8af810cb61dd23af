package io.solvertune.cli;

import ai.djl.ndarray.types.DataType;
import io.solvertune.numerics.model.Denoiser;
import io.solvertune.numerics.model.Guidance;
import io.solvertune.numerics.spec.ModelSpec;
import io.solvertune.tuning.ModelHash;
import io.solvertune.tuning.Presets;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine;

/** Model selection shared by the tuning commands: a spec file or a registered preset, plus conditioning. */
final class ModelOptions {
    @CommandLine.Option(names = "--spec", paramLabel = "FILE", description = "model spec (JSON)")
    Path spec;

    @CommandLine.Option(names = "--preset", paramLabel = "NAME", description = "registered benchmark model: gmm-sd-d32, fmnist-empirical, fmnist-unet")
    String preset;

    @CommandLine.Option(names = "--class", paramLabel = "C", description = "class label (overrides the spec's guidance)")
    Integer classLabel;

    @CommandLine.Option(names = "--guidance", paramLabel = "W", description = "classifier-free guidance scale (overrides the spec's)")
    Double guidanceScale;

    @CommandLine.Option(names = "--per-seed-class", description = "class of seed s is s mod (number of classes), instead of one --class")
    boolean perSeedClass;

    /** A loaded model with everything provenance needs. */
    record Loaded(ModelSpec spec, Path baseDir, String hash, Guidance guidance, DataType dtype) {
        Denoiser build() throws IOException {
            return spec.build(baseDir);
        }
    }

    Loaded load() throws IOException {
        if ((spec == null) == (preset == null)) {
            throw new IllegalArgumentException("give exactly one of --spec FILE or --preset NAME");
        }
        ModelSpec ms;
        Path base;
        if (spec != null) {
            ms = ModelSpec.read(spec);
            base = spec.toAbsolutePath().getParent();
        } else {
            ms = Presets.load(preset);
            base = Presets.baseDir();
        }
        Guidance g = ms.guidanceOrNone();
        Integer c = classLabel != null ? classLabel : g.classLabel();
        double w = guidanceScale != null ? guidanceScale : g.scale();
        if (perSeedClass && classLabel != null) {
            throw new IllegalArgumentException("give either --class or --per-seed-class, not both");
        }
        Guidance guidance = perSeedClass || g.perSeedClass() && classLabel == null ? Guidance.perSeed(w) : new Guidance(c, w);
        return new Loaded(ms, base, ModelHash.of(ms, base), guidance, ms.dataType());
    }

    /**
     * The loaded model as the pipeline's stages see it (model id 0): a preset by name, a spec file with its file
     * references made absolute ({@link io.solvertune.tuning.job.LocalJobRunner#resolveLocal}).
     */
    io.solvertune.tuning.job.ResolvedModel resolved(Loaded m) throws IOException {
        if (preset != null) {
            return new io.solvertune.tuning.job.ResolvedModel(0, preset, m.hash(), m.spec());
        }
        io.solvertune.tuning.job.ResolvedModel r = io.solvertune.tuning.job.LocalJobRunner.resolveLocal(
                com.fasterxml.jackson.databind.node.TextNode.valueOf(spec.toAbsolutePath().toString()), Path.of("."));
        if (!r.contentHash().equals(m.hash())) {
            throw new IllegalStateException("--spec: " + spec + " hashes differently once resolved");
        }
        return r;
    }

    /** Refuses a trajectory set computed for another model or with other conditioning. */
    static void checkTeacher(io.solvertune.tuning.teacher.TrajectorySet set, Loaded m, String option) {
        if (!set.meta().modelHash().equals(m.hash())) {
            throw new IllegalArgumentException(option + ": " + set.directory() + " was computed for another model (hash "
                    + set.meta().modelHash().substring(0, 12) + ", this one " + m.hash().substring(0, 12) + ")");
        }
        String a = io.solvertune.tuning.Json.canonical(set.meta().guidance());
        String b = io.solvertune.tuning.Json.canonical(m.guidance());
        if (!a.equals(b)) {
            throw new IllegalArgumentException(option + ": " + set.directory() + " was computed with guidance " + a
                    + ", not " + b + " (pass the same --class/--guidance/--per-seed-class)");
        }
    }

    /** Both teacher sets belong to this model and conditioning, and no held-out seed is a training seed. */
    static void checkTrainHeldOut(io.solvertune.tuning.teacher.TrajectorySet train, io.solvertune.tuning.teacher.TrajectorySet heldOut,
                                  Loaded m) {
        checkTeacher(train, m, "--train");
        checkTeacher(heldOut, m, "--heldout");
        java.util.Set<Long> trainSeeds = new java.util.HashSet<>();
        for (long s : train.seeds()) {
            trainSeeds.add(s);
        }
        for (long s : heldOut.seeds()) {
            if (trainSeeds.contains(s)) {
                throw new IllegalArgumentException("--heldout: seed " + s + " is also a training seed");
            }
        }
    }
}
