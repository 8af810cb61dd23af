package io.solvertune.service.persistence;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import io.solvertune.service.artifacts.ArtifactEntity;
import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.PrePersist;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Optional;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * A registered model (table {@code models}, Flyway {@code V1__init.sql} and {@code V3__model_registry.sql}). Rows are
 * written by {@link io.solvertune.service.registry.ModelRegistry}; {@link #spec} is what
 * {@link io.solvertune.tuning.job.ResolvedModel#specOf} reads.
 */
@Entity
@Table(name = "models")
public class ModelEntity extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "models_seq")
    @SequenceGenerator(name = "models_seq", sequenceName = "models_seq", allocationSize = 1)
    public Long id;

    /** Unique, used in URLs. */
    @Column(name = "name", nullable = false, length = 200)
    public String name;

    /** analytic | empirical | torchscript | ... */
    @Column(name = "kind", nullable = false, length = 40)
    public String kind;

    /**
     * {@code {"preset": name}} or a self-contained model spec whose file references are absolute paths into the
     * artifact store.
     */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "spec", nullable = false)
    public JsonNode spec;

    /** sha256 (lower-case hex) of the canonical spec and the content it references. */
    @Column(name = "content_hash", nullable = false, length = 64)
    public String contentHash;

    /** The noise schedule spec. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "schedule", nullable = false)
    public JsonNode schedule;

    /** {@link io.solvertune.numerics.model.PredictionType#id()}: noise | data | v | score | flow_velocity. */
    @Column(name = "prediction_type", nullable = false, length = 20)
    public String predictionType;

    @Column(name = "description", columnDefinition = "text")
    public String description;

    /** Whether anonymous clients may read this model's configs. */
    @Column(name = "anonymous_read", nullable = false)
    public boolean anonymousRead;

    @Column(name = "created_at", nullable = false, updatable = false)
    public Instant createdAt;

    /** Built-in preset name ({@link io.solvertune.tuning.Presets}) when the spec is {@code {"preset": name}}. */
    @Column(name = "preset", length = 40)
    public String preset;

    /** Shape of one sample (without the batch axis). */
    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "input_shape", nullable = false)
    public int[] inputShape = new int[0];

    /** Number of classes; 0 = unconditional. */
    @Column(name = "num_classes", nullable = false)
    public int numClasses;

    /** Data type sampling runs in: float32 | float64. */
    @Column(name = "dtype", nullable = false, length = 10)
    public String dtype = "float64";

    /** The uploaded file (TorchScript), if any. */
    @ManyToOne(fetch = FetchType.LAZY)
    @JoinColumn(name = "artifact_id")
    public ArtifactEntity artifact;

    /** Number of parameter values of a TorchScript module, when known. */
    @Column(name = "parameter_count")
    public Long parameterCount;

    /** Name of the token that registered the model. */
    @Column(name = "created_by", length = 200)
    public String createdBy;

    @PrePersist
    void prePersist() {
        if (createdAt == null) {
            createdAt = Instant.now();
        }
    }

    public static Optional<ModelEntity> findByName(String name) {
        return find("name", name).firstResultOptional();
    }
}
