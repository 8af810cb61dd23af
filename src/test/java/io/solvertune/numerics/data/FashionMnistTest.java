package io.solvertune.numerics.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.testing.RequiresFashionMnist;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fashion-MNIST as installed by Debian's {@code dataset-fashion-mnist}, checked against an independent raw read of the
 * IDX files (written here with {@link DataInputStream}, not {@link IdxReader}). Skipped when the dataset is absent.
 */
@RequiresFashionMnist
class FashionMnistTest {
    static final Path DIR = FashionMnist.DEBIAN_DIR;
    static final int PER_CLASS = 200;
    static FashionMnist.Images images;
    static byte[] rawImages;
    static byte[] rawLabels;

    @BeforeAll
    static void load() throws IOException {
        images = FashionMnist.firstPerClass(DIR, FashionMnist.Split.TRAIN, PER_CLASS);
        rawImages = rawIdx(DIR.resolve("train-images-idx3-ubyte.gz"), 0x00000803, 16);
        rawLabels = rawIdx(DIR.resolve("train-labels-idx1-ubyte.gz"), 0x00000801, 8);
    }

    /** The payload of an IDX file: checks the magic, skips the header. */
    static byte[] rawIdx(Path gz, int magic, int headerBytes) throws IOException {
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(gz)));
             DataInputStream d = new DataInputStream(in)) {
            assertEquals(magic, d.readInt());
            d.skipNBytes(headerBytes - 4);
            return d.readAllBytes();
        }
    }

    @Test
    void twoThousandImagesInClassBlocks() {
        assertEquals(10 * PER_CLASS, images.count());
        assertEquals(10 * PER_CLASS * FashionMnist.PIXELS, images.pixels().length);
        for (int i = 0; i < images.count(); i++) {
            assertEquals(i / PER_CLASS, images.labels()[i], "label of row " + i);
        }
        assertEquals(60000, rawLabels.length);
        assertEquals(60000L * 784, rawImages.length);
    }

    @Test
    void pixelsAreScaledToMinusOneOne() {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float p : images.pixels()) {
            min = Math.min(min, p);
            max = Math.max(max, p);
        }
        assertEquals(-1.0f, min, 0.0f, "black background maps to -1");
        assertEquals(1.0f, max, 0.0f, "white maps to +1");
        assertEquals(-1.0f, FashionMnist.scaled(0));
        assertEquals(1.0f, FashionMnist.scaled(255));
        assertEquals(128 / 127.5f - 1f, FashionMnist.scaled(128));
    }

    /** The j-th image of class c's block is the j-th training image with label c, pixel for pixel. */
    @Test
    void imagesAreTheFirstOfTheirClassInFileOrder() {
        for (int c = 0; c < 10; c++) {
            int found = 0;
            for (int i = 0; i < rawLabels.length && found < PER_CLASS; i++) {
                if (rawLabels[i] != c) {
                    continue;
                }
                if (found == 0 || found == 1 || found == PER_CLASS - 1) {
                    int row = c * PER_CLASS + found;
                    for (int p = 0; p < FashionMnist.PIXELS; p++) {
                        int grey = rawImages[i * FashionMnist.PIXELS + p] & 0xff;
                        // exact: both sides evaluate grey / 127.5f - 1f in float
                        assertEquals(grey / 127.5f - 1f, images.pixels()[row * FashionMnist.PIXELS + p], 0.0f,
                                "class " + c + " image " + found + " (file index " + i + ") pixel " + p);
                    }
                }
                found++;
            }
            assertEquals(PER_CLASS, found);
        }
    }

    @Test
    void firstImageOfTheFileIsAnAnkleBoot() throws IOException {
        // Fashion-MNIST's first training image is the well-known ankle boot (label 9)
        assertEquals(9, rawLabels[0]);
        IdxReader.IdxArray labels = IdxReader.read(DIR.resolve("train-labels-idx1-ubyte.gz"));
        assertEquals(1, labels.shape().length);
        assertEquals(60000, labels.count());
        assertEquals(9, labels.unsigned(0));
    }

    @Test
    void loadWholeTestSplit() throws IOException {
        FashionMnist.Images test = FashionMnist.load(DIR, FashionMnist.Split.TEST);
        assertEquals(10000, test.count());
        int[] perClass = new int[10];
        for (int l : test.labels()) {
            perClass[l]++;
        }
        for (int c = 0; c < 10; c++) {
            assertEquals(1000, perClass[c], "test split is balanced");
        }
    }

    @Test
    void invalidArgumentsAndMissingDirectory(@org.junit.jupiter.api.io.TempDir Path empty) {
        assertThrows(IllegalArgumentException.class, () -> FashionMnist.firstPerClass(DIR, FashionMnist.Split.TRAIN, 0));
        IOException e = assertThrows(IOException.class,
                () -> FashionMnist.firstPerClass(empty, FashionMnist.Split.TRAIN, 10));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
        // more per class than there are (6000 per class in the training split)
        e = assertThrows(IOException.class, () -> FashionMnist.firstPerClass(DIR, FashionMnist.Split.TRAIN, 6001));
        assertTrue(e.getMessage().contains("only 6000"), e.getMessage());
    }
}
