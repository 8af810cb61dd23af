package io.solvertune.service.configs;

/** If-None-Match evaluation for strong ETags (RFC 9110 section 13.1.2, weak comparison as the RFC asks). */
final class ETags {

    private ETags() {
    }

    /** Whether the If-None-Match header value matches {@code etag} (a quoted strong tag). */
    static boolean matches(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null || ifNoneMatch.isBlank()) {
            return false;
        }
        for (String part : ifNoneMatch.split(",")) {
            String t = part.strip();
            if (t.equals("*")) {
                return true;
            }
            if (t.startsWith("W/")) {
                t = t.substring(2);
            }
            if (t.equals(etag)) {
                return true;
            }
        }
        return false;
    }
}
