package io.solvertune.cli;

import io.solvertune.numerics.io.Npy;
import io.solvertune.numerics.io.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/** Reads arrays named as {@code file.npy} or {@code file.npz:key} on the command line. */
final class ArrayFiles {
    private ArrayFiles() {
    }

    static NpyArray read(String ref, String what) throws IOException {
        String path = ref;
        String key = null;
        int colon = ref.lastIndexOf(':');
        if (colon > 0 && ref.substring(0, colon).endsWith(".npz")) {
            path = ref.substring(0, colon);
            key = ref.substring(colon + 1);
        }
        Path p = Path.of(path);
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(path);
        }
        if (path.endsWith(".npz")) {
            Map<String, NpyArray> all = Npy.readNpz(p);
            if (key == null) {
                if (all.size() != 1) {
                    throw new IllegalArgumentException(what + ": " + path + " holds " + all.size()
                            + " arrays; name one as " + path + ":<key> (keys: " + String.join(", ", all.keySet()) + ")");
                }
                return all.values().iterator().next();
            }
            NpyArray a = all.get(key);
            if (a == null) {
                throw new IllegalArgumentException(what + ": " + path + " has no array '" + key + "'");
            }
            return a;
        }
        return Npy.read(p);
    }
}
