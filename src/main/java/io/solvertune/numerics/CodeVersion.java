package io.solvertune.numerics;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The code version recorded in provenance: the Maven version plus the git commit when the build knew it. */
public final class CodeVersion {
    private static final String VERSION = load();

    private CodeVersion() {
    }

    public static String get() {
        return VERSION;
    }

    private static String load() {
        Properties p = new Properties();
        try (InputStream in = CodeVersion.class.getResourceAsStream("/solvertune-version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // fall through to defaults
        }
        String v = p.getProperty("version", "dev");
        String commit = p.getProperty("commit", "");
        boolean dirty = "true".equals(p.getProperty("dirty"));
        if (v.startsWith("${")) {
            v = "dev";
        }
        return commit.isEmpty() || commit.startsWith("${") ? v : v + "+" + commit + (dirty ? ".dirty" : "");
    }
}
