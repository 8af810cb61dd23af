package io.solvertune.numerics.coeff;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.solvertune.numerics.schedule.ScheduleSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * What describes a set of empirical model statistics besides its arrays: the JSON sidecar ({@code ems.json}) next to
 * the official {@code l.npz} / {@code sb.npz}, and what a DPM-Solver-v3 spec shows when serialized.
 *
 * @param formatVersion version of this layout ({@link #FORMAT_VERSION})
 * @param gridSteps     {@code K} (arrays have {@code K + 1} rows)
 * @param sampleShape   shape of one sample (the arrays' trailing dimensions), e.g. {@code [3, 32, 32]}
 * @param tStart        time of grid index 0
 * @param tEnd          time of grid index {@code K}
 * @param grid          grid type; only {@link EmsGrid#TYPE} (uniform in half log-SNR)
 * @param dtype         storage type of the arrays in the npz files: {@code float64} or {@code float32}
 * @param schedule      the schedule the statistics were computed on (provenance; optional)
 * @param description   free text (model, guidance scale, estimator settings; optional)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EmsMetadata(int formatVersion, int gridSteps, long[] sampleShape, double tStart, double tEnd, String grid,
                          String dtype, ScheduleSpec schedule, String description) {

    /** Current layout version. */
    public static final int FORMAT_VERSION = 1;

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    public EmsMetadata {
        if (formatVersion != FORMAT_VERSION) {
            throw new IllegalArgumentException("EMS metadata: unsupported formatVersion " + formatVersion + " (expected "
                    + FORMAT_VERSION + ")");
        }
        if (sampleShape == null || sampleShape.length == 0) {
            throw new IllegalArgumentException("EMS metadata: sampleShape is required");
        }
        for (long d : sampleShape) {
            if (d < 1) {
                throw new IllegalArgumentException("EMS metadata: sampleShape " + Arrays.toString(sampleShape)
                        + " has a non-positive dimension");
            }
        }
        sampleShape = sampleShape.clone();
        if (grid == null) {
            grid = EmsGrid.TYPE;
        }
        if (!EmsGrid.TYPE.equals(grid)) {
            throw new IllegalArgumentException("EMS metadata: unsupported grid '" + grid + "' (only " + EmsGrid.TYPE + ")");
        }
        if (dtype == null) {
            dtype = "float64";
        }
        dtype = dtype.toLowerCase(Locale.ROOT);
        if (!dtype.equals("float64") && !dtype.equals("float32")) {
            throw new IllegalArgumentException("EMS metadata: dtype must be float64 or float32, got '" + dtype + "'");
        }
        new EmsGrid(gridSteps, tStart, tEnd); // validates K and the time range
    }

    /** The grid this metadata describes. */
    public EmsGrid emsGrid() {
        return new EmsGrid(gridSteps, tStart, tEnd);
    }

    @Override
    public long[] sampleShape() {
        return sampleShape.clone();
    }

    /** Serialized JSON. */
    public String toJson() {
        try {
            return MAPPER.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("EMS metadata: cannot serialize: " + e.getMessage(), e);
        }
    }

    /** Parses JSON; malformed or invalid metadata gives an {@link IllegalArgumentException} naming the problem. */
    public static EmsMetadata fromJson(String json) {
        try {
            return MAPPER.readValue(json, EmsMetadata.class);
        } catch (JsonProcessingException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IllegalArgumentException iae) {
                throw iae;
            }
            throw new IllegalArgumentException("EMS metadata: " + e.getOriginalMessage(), e);
        }
    }

    /** Reads a metadata file. */
    public static EmsMetadata read(Path file) throws IOException {
        return fromJson(Files.readString(file));
    }

    /** Writes a metadata file. */
    public void write(Path file) throws IOException {
        Files.writeString(file, toJson());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EmsMetadata m && formatVersion == m.formatVersion && gridSteps == m.gridSteps
                && Arrays.equals(sampleShape, m.sampleShape) && Double.compare(tStart, m.tStart) == 0
                && Double.compare(tEnd, m.tEnd) == 0 && grid.equals(m.grid) && dtype.equals(m.dtype)
                && Objects.equals(scheduleTree(schedule), scheduleTree(m.schedule))
                && Objects.equals(description, m.description);
    }

    /** Schedules compare by their JSON form (their records may hold arrays, which compare by identity). */
    private static Object scheduleTree(ScheduleSpec s) {
        return s == null ? null : MAPPER.valueToTree(s);
    }

    @Override
    public int hashCode() {
        return Objects.hash(formatVersion, gridSteps, Arrays.hashCode(sampleShape), tStart, tEnd, grid, dtype,
                scheduleTree(schedule),
                description);
    }

    @Override
    public String toString() {
        return "EmsMetadata[K=" + gridSteps + ", sampleShape=" + Arrays.toString(sampleShape) + ", t=[" + tEnd + ", "
                + tStart + "], grid=" + grid + ", dtype=" + dtype + (schedule != null ? ", schedule=" + schedule : "")
                + (description != null ? ", description=" + description : "") + "]";
    }
}
