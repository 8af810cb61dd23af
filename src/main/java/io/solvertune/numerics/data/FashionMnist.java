package io.solvertune.numerics.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fashion-MNIST from the IDX files of Debian's {@code dataset-fashion-mnist}
 * ({@code /usr/share/datasets/fashion-mnist}). Images are 28x28 grey values; {@link #scaled} maps them to [-1, 1].
 */
public final class FashionMnist {
    /** Where Debian installs the dataset. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final int SIDE = 28;
    public static final int PIXELS = SIDE * SIDE;
    public static final int CLASSES = 10;
    public static final String[] CLASS_NAMES = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

    /** A labelled image set with pixels in [-1, 1], row-major [count, 784]. */
    public record Images(float[] pixels, int[] labels) {
        public int count() {
            return labels.length;
        }
    }

    public enum Split {
        TRAIN("train"), TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private FashionMnist() {
    }

    /** Whether the dataset is installed in {@code dir}. */
    public static boolean available(Path dir) {
        return Files.isRegularFile(file(dir, Split.TRAIN, "images-idx3-ubyte"))
                && Files.isRegularFile(file(dir, Split.TRAIN, "labels-idx1-ubyte"));
    }

    /** All images of a split, scaled to [-1, 1]. */
    public static Images load(Path dir, Split split) throws IOException {
        return select(dir, split, Integer.MAX_VALUE);
    }

    /**
     * The first {@code perClass} images of each class, in file order within each class and classes in order
     * 0..9 (so 10 x perClass images), scaled to [-1, 1].
     */
    public static Images firstPerClass(Path dir, Split split, int perClass) throws IOException {
        if (perClass < 1) {
            throw new IllegalArgumentException("perClass must be >= 1, got " + perClass);
        }
        return select(dir, split, perClass);
    }

    private static Images select(Path dir, Split split, int perClass) throws IOException {
        if (!available(dir) && split == Split.TRAIN) {
            throw new IOException("Fashion-MNIST not found in " + dir
                    + " (install it with: apt-get install dataset-fashion-mnist)");
        }
        IdxReader.IdxArray images = IdxReader.read(file(dir, split, "images-idx3-ubyte"));
        IdxReader.IdxArray labels = IdxReader.read(file(dir, split, "labels-idx1-ubyte"));
        if (images.shape().length != 3 || images.shape()[1] != SIDE || images.shape()[2] != SIDE) {
            throw new IOException("unexpected Fashion-MNIST image shape");
        }
        if (labels.count() != images.count()) {
            throw new IOException("Fashion-MNIST: " + images.count() + " images but " + labels.count() + " labels");
        }
        int n = images.count();
        int[] taken = new int[CLASSES];
        int[][] byClass = new int[CLASSES][];
        int limit = perClass == Integer.MAX_VALUE ? n : perClass;
        for (int c = 0; c < CLASSES; c++) {
            byClass[c] = new int[Math.min(limit, n)];
        }
        for (int i = 0; i < n; i++) {
            int c = labels.unsigned(i);
            if (c >= CLASSES) {
                throw new IOException("Fashion-MNIST: label " + c + " out of range at " + i);
            }
            if (taken[c] < limit) {
                byClass[c][taken[c]++] = i;
            }
        }
        int total = 0;
        for (int c = 0; c < CLASSES; c++) {
            if (perClass != Integer.MAX_VALUE && taken[c] < perClass) {
                throw new IOException("Fashion-MNIST: class " + c + " has only " + taken[c] + " images");
            }
            total += taken[c];
        }
        float[] px = new float[total * PIXELS];
        int[] lab = new int[total];
        int row = 0;
        if (perClass == Integer.MAX_VALUE) {
            for (int i = 0; i < n; i++) {
                copy(images, i, px, row);
                lab[row++] = labels.unsigned(i);
            }
        } else {
            for (int c = 0; c < CLASSES; c++) {
                for (int j = 0; j < taken[c]; j++) {
                    copy(images, byClass[c][j], px, row);
                    lab[row++] = c;
                }
            }
        }
        return new Images(px, lab);
    }

    private static void copy(IdxReader.IdxArray images, int index, float[] dst, int row) {
        int base = index * PIXELS;
        int out = row * PIXELS;
        for (int p = 0; p < PIXELS; p++) {
            dst[out + p] = scaled(images.unsigned(base + p));
        }
    }

    /** Grey value 0..255 to [-1, 1]. */
    public static float scaled(int grey) {
        return grey / 127.5f - 1.0f;
    }

    private static Path file(Path dir, Split split, String kind) {
        Path gz = dir.resolve(split.prefix + "-" + kind + ".gz");
        return Files.exists(gz) ? gz : dir.resolve(split.prefix + "-" + kind);
    }
}
