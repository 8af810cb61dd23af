package io.solvertune.tuning.fit.timesteps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * {@link LearnedTimesteps.Checkpoints} in a directory: one {@link FileJournal} per (variant, NFE)
 * ({@code journal-<hash>.txt}) and one file per GITS grid ({@code gits-<hash>-<steps>.txt}: the times' IEEE bits in
 * hex, one a line). The names hash {@code key} (what the optimisation depends on besides the variant and NFE: model,
 * conditioning, rows, settings), so a directory never hands one optimisation another's progress; a journal also checks
 * every grid it replays.
 */
public final class DirectoryCheckpoints implements LearnedTimesteps.Checkpoints {
    private final Path dir;
    private final String key;

    /**
     * @param dir the directory (created when the first file is written)
     * @param key what the learned grids depend on besides variant and NFE
     */
    public DirectoryCheckpoints(Path dir, String key) {
        this.dir = dir;
        this.key = key;
    }

    @Override
    public TimestepOptimizer.Journal journal(LearnedTimesteps.Variant v, int nfe) {
        try {
            return FileJournal.open(dir.resolve("journal-" + hash(key + "\n" + LearnedTimesteps.gridKey(v, nfe))
                    + ".txt"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public double[] gits(int steps, Supplier<double[]> compute) {
        Path f = dir.resolve("gits-" + hash(key) + "-" + steps + ".txt");
        try {
            if (Files.isRegularFile(f)) {
                List<String> lines = Files.readAllLines(f, StandardCharsets.US_ASCII);
                if (lines.size() == steps + 1) {
                    double[] g = new double[steps + 1];
                    for (int i = 0; i <= steps; i++) {
                        g[i] = Double.longBitsToDouble(Long.parseUnsignedLong(lines.get(i), 16));
                    }
                    return g;
                }
            }
            double[] g = compute.get();
            List<String> lines = new ArrayList<>();
            for (double t : g) {
                lines.add(String.format(Locale.ROOT, "%016x", Double.doubleToRawLongBits(t)));
            }
            Files.createDirectories(dir);
            Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
            Files.write(tmp, lines, StandardCharsets.US_ASCII);
            Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return g;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(f + ": not a stored GITS grid: " + e.getMessage(), e);
        }
    }

    private static String hash(String s) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
