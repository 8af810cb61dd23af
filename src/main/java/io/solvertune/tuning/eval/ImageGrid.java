package io.solvertune.tuning.eval;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * PNG grids of image samples: one column per source (teacher, then each candidate), one row per seed. Values in
 * [-1, 1] map to 0..255; samples are [C, H, W] with C = 1 (grey) or 3 (RGB).
 */
public final class ImageGrid {
    private ImageGrid() {
    }

    /** Whether a sample shape looks like an image ([1|3, H, W]). */
    public static boolean isImage(long[] shape) {
        return shape.length == 3 && (shape[0] == 1 || shape[0] == 3) && shape[1] >= 4 && shape[2] >= 4;
    }

    /**
     * Writes {@code columns} (each flattened [rows, C, H, W]) side by side.
     *
     * @param gap pixels between tiles
     */
    public static void write(Path file, List<double[]> columns, int rows, long[] shape, int gap) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int c = (int) shape[0];
        int h = (int) shape[1];
        int w = (int) shape[2];
        int per = c * h * w;
        int cols = columns.size();
        BufferedImage img = new BufferedImage(cols * (w + gap) + gap, rows * (h + gap) + gap, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                img.setRGB(x, y, 0x404040);
            }
        }
        for (int col = 0; col < cols; col++) {
            double[] data = columns.get(col);
            for (int row = 0; row < rows; row++) {
                int base = row * per;
                if (base + per > data.length) {
                    continue;
                }
                int ox = gap + col * (w + gap);
                int oy = gap + row * (h + gap);
                for (int yy = 0; yy < h; yy++) {
                    for (int xx = 0; xx < w; xx++) {
                        int r = grey(data[base + yy * w + xx]);
                        int g = c == 3 ? grey(data[base + h * w + yy * w + xx]) : r;
                        int b = c == 3 ? grey(data[base + 2 * h * w + yy * w + xx]) : r;
                        img.setRGB(ox + xx, oy + yy, (r << 16) | (g << 8) | b);
                    }
                }
            }
        }
        ImageIO.write(img, "png", file.toFile());
    }

    private static int grey(double v) {
        double u = (v + 1.0) * 127.5;
        return (int) Math.max(0, Math.min(255, Math.round(u)));
    }
}
