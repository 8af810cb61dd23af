package io.solvertune.service.persistence;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.PrePersist;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Optional;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A registered model (table {@code models}, Flyway {@code V1__init.sql}). */
@Entity
@Table(name = "models")
public class ModelEntity extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "models_seq")
    @SequenceGenerator(name = "models_seq", sequenceName = "models_seq", allocationSize = 50)
    public Long id;

    /** Unique, used in URLs. */
    @Column(name = "name", nullable = false, length = 200)
    public String name;

    /** analytic | empirical | torchscript | ... */
    @Column(name = "kind", nullable = false, length = 40)
    public String kind;

    /** The model spec as submitted. */
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
