package io.solvertune.tuning.job;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;

/** The arithmetic of a teacher run (the job spec's {@code teacher.dtype}). */
public enum Dtype {
    FLOAT32("float32", DataType.FLOAT32),
    FLOAT64("float64", DataType.FLOAT64);

    private final String id;
    private final DataType djl;

    Dtype(String id, DataType djl) {
        this.id = id;
        this.djl = djl;
    }

    @JsonValue
    public String id() {
        return id;
    }

    /** DJL's type. */
    public DataType djl() {
        return djl;
    }

    /** The dtype called {@code id}, or null. */
    @JsonCreator
    public static Dtype of(String id) {
        return Arrays.stream(values()).filter(d -> d.id.equals(id)).findFirst().orElse(null);
    }

    /** The dtype of DJL's {@code type} (float32 for float32, else float64). */
    public static Dtype of(DataType type) {
        return type == DataType.FLOAT32 ? FLOAT32 : FLOAT64;
    }
}
