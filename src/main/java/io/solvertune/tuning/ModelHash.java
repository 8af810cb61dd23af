package io.solvertune.tuning;

import io.solvertune.numerics.data.FashionMnist;
import io.solvertune.numerics.spec.DenoiserSpec;
import io.solvertune.numerics.spec.ModelSpec;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The identity of a model for provenance: sha256 over the canonical JSON of its spec (schedule, model, guidance,
 * dtype) and the bytes of every file the spec refers to ({@code npz}/{@code file} fields; the dataset files of
 * empirical models). Two specs that differ only in whitespace or key order, or point to identical files under other
 * names, hash alike.
 */
public final class ModelHash {
    private ModelHash() {
    }

    public static String of(ModelSpec spec, Path baseDir) throws IOException {
        TreeMap<String, String> parts = new TreeMap<>();
        parts.put("spec", Json.canonical(normalised(spec)));
        int i = 0;
        for (Path f : referencedFiles(spec.model(), baseDir)) {
            parts.put("file" + (i++), Hashing.sha256(f));
        }
        return Hashing.sha256(Json.canonical(parts));
    }

    /** The spec with file names blanked (their contents are hashed instead). */
    private static Object normalised(ModelSpec spec) {
        TreeMap<String, Object> m = new TreeMap<>();
        m.put("schedule", spec.schedule());
        m.put("guidance", spec.guidance());
        m.put("dtype", spec.dataType().toString());
        TreeMap<String, Object> model = new TreeMap<>();
        model.put("type", spec.model().getClass().getSimpleName());
        for (RecordComponent rc : spec.model().getClass().getRecordComponents()) {
            if (isPath(rc.getName())) {
                continue;
            }
            try {
                model.put(rc.getName(), rc.getAccessor().invoke(spec.model()));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        m.put("model", model);
        return m;
    }

    private static boolean isPath(String name) {
        return name.equals("npz") || name.equals("file") || name.equals("dir");
    }

    /** Files a model spec depends on. */
    static List<Path> referencedFiles(DenoiserSpec model, Path baseDir) throws IOException {
        List<Path> files = new ArrayList<>();
        for (RecordComponent rc : model.getClass().getRecordComponents()) {
            String name = rc.getName();
            if (!name.equals("npz") && !name.equals("file")) {
                continue;
            }
            Object v;
            try {
                v = rc.getAccessor().invoke(model);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            if (v instanceof String s) {
                Path p = baseDir.resolve(s);
                if (!Files.isRegularFile(p)) {
                    throw new java.nio.file.NoSuchFileException(p.toString());
                }
                files.add(p);
            }
        }
        if (model instanceof DenoiserSpec.Empirical e && e.npz() == null) {
            Path d = e.dir() == null ? FashionMnist.DEBIAN_DIR : baseDir.resolve(e.dir());
            for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}) {
                Path p = d.resolve(f);
                if (!Files.isRegularFile(p)) {
                    p = d.resolve(f.replace(".gz", ""));
                }
                if (Files.isRegularFile(p)) {
                    files.add(p);
                }
            }
        }
        return files;
    }
}
