package io.solvertune.service.db;

/**
 * The service's database cannot be used: the configured server does not answer, the embedded one cannot start, or
 * its data directory is in use. The message is one sentence for the user (the {@code token} command prints it as its
 * one-line error).
 */
public class DatabaseUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public DatabaseUnavailableException(String message) {
        super(message);
    }

    public DatabaseUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
