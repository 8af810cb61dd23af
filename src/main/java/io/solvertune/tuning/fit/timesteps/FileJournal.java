package io.solvertune.tuning.fit.timesteps;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * A {@link TimestepOptimizer.Journal} in a text file, one line per evaluation: {@code index sha256(grid) lossBits},
 * the grid hashed over the exact bits of its times and the loss as the hex of its IEEE bits (so a replayed loss is the
 * same double). Each line is appended as the evaluation finishes; a torn last line (the process was killed while
 * writing it) and every line after a mismatch (an evaluation whose grid differs from the recorded one: the journal is
 * of another optimisation) are dropped and the file is cut back to the lines that hold.
 */
public final class FileJournal implements TimestepOptimizer.Journal {
    /** Evaluations one journal holds at most (the optimiser's own budget limit). */
    static final int MAX_LINES = TimestepOptimizer.Settings.MAX_EVALUATIONS;

    private final Path file;
    private final List<String> hashes = new ArrayList<>();
    private final List<Double> losses = new ArrayList<>();

    private FileJournal(Path file) {
        this.file = file;
    }

    /** The journal in {@code file} (created when the first evaluation is recorded). */
    public static FileJournal open(Path file) throws IOException {
        FileJournal j = new FileJournal(file);
        if (Files.isRegularFile(file)) {
            String text = Files.readString(file, StandardCharsets.US_ASCII);
            boolean torn = !text.isEmpty() && !text.endsWith("\n");
            String[] lines = text.isEmpty() ? new String[0] : text.split("\n", -1);
            int complete = torn ? lines.length - 1 : lines.length - 1; // the last piece is "" or torn
            for (int i = 0; i < complete && i < MAX_LINES; i++) {
                String[] f = lines[i].split(" ");
                if (f.length != 3 || !f[0].equals(Integer.toString(i)) || f[1].length() != 64) {
                    break;
                }
                try {
                    j.losses.add(Double.longBitsToDouble(Long.parseUnsignedLong(f[2], 16)));
                } catch (NumberFormatException e) {
                    break;
                }
                j.hashes.add(f[1]);
            }
            if (torn || j.hashes.size() != complete) {
                j.rewrite();
            }
        }
        return j;
    }

    /** Evaluations recorded. */
    public int size() {
        return hashes.size();
    }

    @Override
    public Double recorded(int index, double[] grid) {
        if (index >= hashes.size()) {
            return null;
        }
        if (hashes.get(index).equals(hash(grid))) {
            return losses.get(index);
        }
        // another optimisation's journal from here on: forget it
        truncate(index);
        return null;
    }

    @Override
    public void record(int index, double[] grid, double loss) {
        if (index < hashes.size()) {
            truncate(index);
        }
        if (index != hashes.size()) {
            throw new IllegalStateException("journal " + file + ": evaluation " + index + " recorded after "
                    + hashes.size());
        }
        String h = hash(grid);
        hashes.add(h);
        losses.add(loss);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, line(index, h, loss), StandardCharsets.US_ASCII, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void truncate(int n) {
        hashes.subList(n, hashes.size()).clear();
        losses.subList(n, losses.size()).clear();
        try {
            rewrite();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void rewrite() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < hashes.size(); i++) {
            sb.append(line(i, hashes.get(i), losses.get(i)));
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, sb, StandardCharsets.US_ASCII);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static String line(int index, String hash, double loss) {
        return String.format(Locale.ROOT, "%d %s %016x%n", index, hash, Double.doubleToRawLongBits(loss))
                .replace(System.lineSeparator(), "\n");
    }

    /** sha256 over the grid's exact bits. */
    static String hash(double[] grid) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] b = new byte[8];
            for (double v : grid) {
                long bits = Double.doubleToRawLongBits(v);
                for (int k = 0; k < 8; k++) {
                    b[k] = (byte) (bits >>> (56 - 8 * k));
                }
                md.update(b);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
