package io.solvertune.service.persistence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.PrePersist;
import jakarta.persistence.Table;
import java.time.Instant;
import org.hibernate.annotations.GenericGenerator;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * A published solver configuration (table {@code solver_configs}): immutable once inserted — the database refuses
 * UPDATEs (trigger {@code solver_configs_immutable}); a new fit of the same key is a new {@link #version}.
 * Unique key: model, method, solver, solver options, NFE, guidance, spacing, t-range, version.
 */
@Entity
@Table(name = "solver_configs")
public class SolverConfigEntity extends PanacheEntityBase {

    /**
     * Drawn from {@code solver_configs_seq} on persist, unless assigned before (the config store draws it first,
     * {@link #nextId}, because the stored {@link #document} quotes it and the row cannot be updated afterwards).
     */
    @Id
    @GeneratedValue(generator = "solver_configs_seq")
    @GenericGenerator(name = "solver_configs_seq", type = SolverConfigIdGenerator.class)
    public Long id;

    /** The next value of the id sequence, for an id assigned before {@code persist}. */
    public static long nextId(jakarta.persistence.EntityManager em) {
        return ((Number) em.createNativeQuery("SELECT nextval('solver_configs_seq')").getSingleResult()).longValue();
    }

    @ManyToOne(fetch = FetchType.LAZY, optional = false)
    @JoinColumn(name = "model_id", nullable = false, updatable = false)
    public ModelEntity model;

    /** Tuning method: baseline | ems | iia | dc | dode | consistency | ... */
    @Column(name = "method", nullable = false, length = 40)
    public String method;

    /** {@link io.solvertune.numerics.solver.catalog.SolverCatalog} name. */
    @Column(name = "solver", nullable = false, length = 40)
    public String solver;

    /** SolverCatalog options of the solver (order, variant, ...). */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "solver_options", nullable = false)
    public JsonNode solverOptions;

    @Column(name = "nfe", nullable = false)
    public int nfe;

    /** Classifier-free guidance scale; 1.0 = unguided. */
    @Column(name = "guidance", nullable = false)
    public double guidance = 1.0;

    @Column(name = "spacing", nullable = false, length = 40)
    public String spacing;

    @Column(name = "t_start", nullable = false)
    public double tStart;

    @Column(name = "t_end", nullable = false)
    public double tEnd;

    @Column(name = "version", nullable = false)
    public int version;

    /** The fitted values (coefficients, time grid) in the versioned coefficient codec. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "values", nullable = false)
    public JsonNode values;

    /** Validation metrics (MSE vs teacher, improvement over the best baseline at this NFE, ...). */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "metrics", nullable = false)
    public JsonNode metrics;

    /** Code version, teacher, seeds, data hashes, job. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "provenance", nullable = false)
    public JsonNode provenance;

    @Column(name = "created_at", nullable = false, updatable = false)
    public Instant createdAt;

    /** sha256 (hex) of the canonical key JSON: every version of one key shares it (V4). */
    @Column(name = "key_hash", nullable = false, length = 64)
    public String keyHash;

    /** The tuning job that published this version. */
    @Column(name = "job_id", nullable = false)
    public long jobId;

    /** sha256 (hex) of {@link #document}'s UTF-8 bytes: the strong ETag. */
    @Column(name = "sha256", nullable = false, length = 64)
    public String sha256;

    /** The canonical JSON document served for this version (computed once, at publish time). */
    @Column(name = "document", nullable = false, columnDefinition = "text")
    public String document;

    /** Held-out MSE vs the teacher (what {@code recommended} ranks by); null if the candidate had none. */
    @Column(name = "held_out_mse")
    public Double heldOutMse;

    @PrePersist
    void prePersist() {
        if (createdAt == null) {
            createdAt = Instant.now();
        }
        if (solverOptions == null) {
            solverOptions = JsonNodeFactory.instance.objectNode();
        }
        if (metrics == null) {
            metrics = JsonNodeFactory.instance.objectNode();
        }
    }
}
