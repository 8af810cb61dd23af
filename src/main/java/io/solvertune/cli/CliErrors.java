package io.solvertune.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import io.solvertune.numerics.model.NonFiniteModelOutputException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;

/**
 * One-line messages and exit codes for failures of CLI commands: every error is printed as a single
 * {@code error: ...} line (no stack trace); exit code 2 for bad input or a refused request, 1 for a failure, 3 when
 * the server does not answer.
 */
public final class CliErrors {
    /** Longest message printed (an HTML error page from a proxy can be long). */
    static final int MAX_LENGTH = 500;

    private CliErrors() {
    }

    /** {@code error: <message>} as one line. */
    public static String line(Throwable ex) {
        return "error: " + oneLine(message(ex));
    }

    /** The message folded to one line (line breaks and the indentation after them become one space), bounded. */
    public static String oneLine(String message) {
        String s = message == null ? "" : message.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
        return s.length() <= MAX_LENGTH ? s : s.substring(0, MAX_LENGTH - 3) + "...";
    }

    /** The message of a failure, naming the exception type only when it has no message of its own. */
    public static String message(Throwable ex) {
        if (ex instanceof JsonMappingException jm && !jm.getPath().isEmpty()) {
            StringBuilder path = new StringBuilder();
            for (JsonMappingException.Reference r : jm.getPath()) {
                if (r.getFieldName() != null) {
                    if (path.length() > 0) {
                        path.append('.');
                    }
                    path.append(r.getFieldName());
                } else if (r.getIndex() >= 0) {
                    path.append('[').append(r.getIndex()).append(']');
                }
            }
            return "spec field '" + path + "': " + jm.getOriginalMessage().split("\n")[0];
        }
        if (ex instanceof JsonProcessingException jp) {
            return "malformed JSON: " + jp.getOriginalMessage().split("\n")[0]
                    + (jp.getLocation() != null ? " (line " + jp.getLocation().getLineNr() + ", column "
                    + jp.getLocation().getColumnNr() + ")" : "");
        }
        if (ex instanceof io.solvertune.client.ApiException api) {
            return api.getMessage();
        }
        if (ex instanceof NoSuchFileException nf) {
            return "file not found: " + nf.getFile();
        }
        if (ex instanceof IOException) {
            return ex.getMessage();
        }
        if ((ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                || ex instanceof NonFiniteModelOutputException) && ex.getMessage() != null) {
            return ex.getMessage();
        }
        return ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage());
    }

    /** 2: bad input or a refused request; 3: the server did not answer; 1: anything else. */
    public static int exitCode(Throwable ex) {
        if (ex instanceof io.solvertune.client.ApiException api) {
            // 2: the request was refused (4xx); 3: no answer; 1: the server failed
            return api.status() == 0 ? 3 : api.status() < 500 ? 2 : 1;
        }
        if (ex instanceof IllegalArgumentException || ex instanceof IOException
                || ex instanceof NonFiniteModelOutputException) {
            return 2;
        }
        return 1;
    }
}
