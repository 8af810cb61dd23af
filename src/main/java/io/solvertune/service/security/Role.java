package io.solvertune.service.security;

import java.util.Arrays;
import java.util.Locale;

/**
 * Roles of API tokens, ordered by power: an admin may do everything a submitter may, a submitter everything a reader
 * may.
 */
public enum Role {
    /** Reads models, jobs and configs; downloads configs. */
    READER,
    /** Also registers models and submits, cancels and retries tuning jobs. */
    SUBMITTER,
    /** Also manages tokens, deletes models and moves aliases. */
    ADMIN;

    /** The name stored and shown: {@code reader}, {@code submitter}, {@code admin}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether a holder of this role may do what {@code required} may. */
    public boolean includes(Role required) {
        return compareTo(required) >= 0;
    }

    /** Parses {@link #id()} (case-insensitive); the message names the accepted values. */
    public static Role parse(String s) {
        for (Role r : values()) {
            if (r.id().equalsIgnoreCase(s == null ? "" : s.strip())) {
                return r;
            }
        }
        throw new IllegalArgumentException("role: unknown role '" + s + "'; one of "
                + Arrays.stream(values()).map(Role::id).toList());
    }
}
