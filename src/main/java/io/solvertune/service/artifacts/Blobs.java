package io.solvertune.service.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Digests and keys of content-addressed blobs. */
public final class Blobs {

    private static final Pattern SHA256 = Pattern.compile("^[0-9a-f]{64}$");

    private Blobs() {
    }

    /** A blob's digest and size. */
    public record Digest(String sha256, long size) {
    }

    static String checkSha(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("sha256: expected 64 lower-case hex digits, got '" + sha256 + "'");
        }
        return sha256;
    }

    /** {@code sha256/ab/abcdef...}: the key of a blob in an object store and in the local cache. */
    public static String key(String sha256) {
        return "sha256/" + checkSha(sha256).substring(0, 2) + "/" + sha256;
    }

    /** Digest and size of a file, streaming. */
    public static Digest digest(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return copy(in, OutputStream.nullOutputStream());
        }
    }

    /** Copies {@code in} to {@code out}, returning the digest and size of what went through. */
    public static Digest copy(InputStream in, OutputStream out) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        long n = 0;
        int r;
        while ((r = in.read(buf)) != -1) {
            md.update(buf, 0, r);
            out.write(buf, 0, r);
            n += r;
        }
        return new Digest(HexFormat.of().formatHex(md.digest()), n);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
