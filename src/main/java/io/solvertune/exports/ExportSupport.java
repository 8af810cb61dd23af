package io.solvertune.exports;

import java.util.List;

/**
 * The verdict of one export format for one config: either the consumer call that reproduces the config's validated
 * run, or the reason no such call exists and the formats that do reproduce it.
 *
 * @param format       the format
 * @param call         the reproducing consumer call (null when refused)
 * @param reason       why the format is refused (null when supported)
 * @param alternatives the formats that reproduce this config (never empty for a refusal: {@code json} always does)
 */
public record ExportSupport(ExportFormat format, ConsumerCall call, String reason, List<ExportFormat> alternatives) {

    public ExportSupport {
        if ((call == null) == (reason == null)) {
            throw new IllegalArgumentException("export support: exactly one of call and reason");
        }
        alternatives = alternatives == null ? List.of() : List.copyOf(alternatives);
    }

    /** A supported format. */
    public static ExportSupport supported(ExportFormat format, ConsumerCall call) {
        return new ExportSupport(format, call, null, List.of());
    }

    /** A refused format; alternatives are filled in by {@link ExportRules#all}. */
    public static ExportSupport refused(ExportFormat format, String reason) {
        return new ExportSupport(format, null, reason, List.of());
    }

    public boolean isSupported() {
        return call != null;
    }

    /** The refusal with the formats that work. */
    ExportSupport withAlternatives(List<ExportFormat> working) {
        return new ExportSupport(format, call, reason, working);
    }

    /** The refusal as one sentence naming the reason and the formats that work. */
    public String message() {
        if (isSupported()) {
            return "format " + format.id() + ": supported";
        }
        return "format " + format.id() + ": " + reason + " Formats that reproduce this config: "
                + String.join(", ", alternatives.stream().map(ExportFormat::id).toList()) + ".";
    }
}
