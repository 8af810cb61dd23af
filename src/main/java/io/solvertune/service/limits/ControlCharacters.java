package io.solvertune.service.limits;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * Control characters in text a client sends. PostgreSQL refuses NUL (0x00) in every text and JSONB value, so a NUL
 * that reached a query was a 500; none of the API's parameters or names means anything with a control character in
 * it either. Parameters and path segments may hold none (C0 and DEL); JSON strings and field names may hold tabs and
 * line breaks (descriptions), but no other control character.
 */
public final class ControlCharacters {

    private ControlCharacters() {
    }

    /** Whether {@code c} is refused in a query parameter or path segment: C0 controls and DEL. */
    public static boolean refusedInParameter(char c) {
        return c < 0x20 || c == 0x7f;
    }

    /** Whether {@code c} is refused in a JSON string or field name: C0 controls except TAB, LF, CR, and DEL. */
    public static boolean refusedInJson(char c) {
        return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
    }

    /** Index of the first character refused in a parameter, or -1. */
    public static int inParameter(String s) {
        if (s == null) {
            return -1;
        }
        for (int i = 0; i < s.length(); i++) {
            if (refusedInParameter(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    /** Index of the first character refused in JSON text, or -1. */
    public static int inJson(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (refusedInJson(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    /** How a refused character is named in messages: {@code U+0000}. */
    public static String describe(String s, int index) {
        return String.format("U+%04X at position %d", (int) s.charAt(index), index);
    }

    /**
     * The dotted path ({@code spec.methods[1]}, or {@code body} for the root) of the first JSON string or field name
     * with a refused character (or of a number too large for a double, which would be stored as infinity), and a
     * message naming it.
     */
    public static Optional<String[]> findInJson(JsonNode node) {
        return find(node, "");
    }

    private static Optional<String[]> find(JsonNode node, String path) {
        if (node == null) {
            return Optional.empty();
        }
        if (node.isNumber() && !node.isIntegralNumber() && !node.isBigDecimal() && !Double.isFinite(node.doubleValue())) {
            // 1e400 reads as infinity, which neither JSON nor PostgreSQL's jsonb can hold
            return Optional.of(new String[] {path.isEmpty() ? "body" : path, "a number beyond the range of a double"});
        }
        if (node.isTextual()) {
            String s = node.textValue();
            int i = inJson(s);
            return i < 0 ? Optional.empty() : Optional.of(new String[] {path.isEmpty() ? "body" : path,
                    "contains the control character " + describe(s, i)});
        }
        if (node.isArray()) {
            for (int k = 0; k < node.size(); k++) {
                Optional<String[]> f = find(node.get(k), path + "[" + k + "]");
                if (f.isPresent()) {
                    return f;
                }
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String child = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                int i = inJson(e.getKey());
                if (i >= 0) {
                    return Optional.of(new String[] {path.isEmpty() ? "body" : path, "a field name contains the "
                            + "control character " + describe(e.getKey(), i)});
                }
                Optional<String[]> f = find(e.getValue(), child);
                if (f.isPresent()) {
                    return f;
                }
            }
        }
        return Optional.empty();
    }
}
