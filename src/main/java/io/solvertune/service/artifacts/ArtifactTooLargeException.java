package io.solvertune.service.artifacts;

/**
 * A stream given to {@link ArtifactStore} was longer than its limit; nothing was kept. REST answers 413 problem
 * details ({@link ArtifactProblemMapper}).
 */
public class ArtifactTooLargeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long limitBytes;

    public ArtifactTooLargeException(long limitBytes) {
        super("the upload exceeds the limit of " + limitBytes + " bytes (" + human(limitBytes)
                + "; server setting solvertune.upload.max-bytes)");
        this.limitBytes = limitBytes;
    }

    public long limitBytes() {
        return limitBytes;
    }

    /** 268435456 -> "256 MiB", 1500 -> "1500 B". */
    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.valueOf((long) v) : String.format(java.util.Locale.ROOT, "%.1f", v))
                + " " + units[u];
    }
}
