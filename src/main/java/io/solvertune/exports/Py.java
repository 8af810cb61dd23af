package io.solvertune.exports;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Number and list literals for the Python code and ComfyUI strings an export states. */
final class Py {
    private Py() {
    }

    /**
     * A double as a plain decimal that parses back to exactly the same double and never uses an exponent
     * ({@code 9.99E-4} becomes {@code 0.000999}): ComfyUI's ManualSigmas regex {@code [-+]?(?:\d*\.*\d+)} reads an
     * exponent as a second number.
     */
    static String plain(double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException("not a finite number: " + v);
        }
        if (v == 0.0) {
            return "0.0";
        }
        String s = new BigDecimal(Double.toString(v)).toPlainString();
        return s.contains(".") ? s : s + ".0";
    }

    /** A Python float literal that round-trips (plain decimal). */
    static String num(double v) {
        return plain(v);
    }

    /** A Python list of floats. */
    static String list(double[] a) {
        List<String> parts = new ArrayList<>(a.length);
        for (double v : a) {
            parts.add(plain(v));
        }
        return "[" + String.join(", ", parts) + "]";
    }

    /** A Python list of ints. */
    static String ints(long[] a) {
        List<String> parts = new ArrayList<>(a.length);
        for (long v : a) {
            parts.add(Long.toString(v));
        }
        return "[" + String.join(", ", parts) + "]";
    }

    /** A Python literal of a JSON-like value (map, list, string, boolean, number, null). */
    static String value(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (o instanceof Double d) {
            return plain(d);
        }
        if (o instanceof Number n) {
            return n.toString();
        }
        if (o instanceof String s) {
            return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
        }
        if (o instanceof double[] a) {
            return list(a);
        }
        if (o instanceof long[] a) {
            return ints(a);
        }
        if (o instanceof List<?> l) {
            List<String> parts = new ArrayList<>();
            for (Object x : l) {
                parts.add(value(x));
            }
            return "[" + String.join(", ", parts) + "]";
        }
        throw new IllegalArgumentException("no Python literal for " + o.getClass());
    }

    /** {@code name=value, ...} keyword arguments of a map, in its order. */
    static String kwargs(Map<String, Object> m) {
        List<String> parts = new ArrayList<>();
        m.forEach((k, v) -> parts.add(k + "=" + value(v)));
        return String.join(", ", parts);
    }
}
