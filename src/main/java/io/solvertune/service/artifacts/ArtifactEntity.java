package io.solvertune.service.artifacts;

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

/**
 * A stored file (table {@code artifacts}, Flyway {@code V3__model_registry.sql}), content-addressed by sha256. Written
 * only by {@link ArtifactStore}.
 */
@Entity
@Table(name = "artifacts")
public class ArtifactEntity extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "artifacts_seq")
    @SequenceGenerator(name = "artifacts_seq", sequenceName = "artifacts_seq", allocationSize = 1)
    public Long id;

    /** What the file is (torchscript, trajectories, ems, ...): the kind it was first stored as. */
    @Column(name = "kind", nullable = false, length = 40)
    public String kind;

    /** sha256 (lower-case hex) of the bytes. */
    @Column(name = "sha256", nullable = false, length = 64, updatable = false)
    public String sha256;

    @Column(name = "size_bytes", nullable = false, updatable = false)
    public long sizeBytes;

    /** Location relative to the artifact root ({@code sha256/ab/abcdef...}). */
    @Column(name = "path", nullable = false, columnDefinition = "text")
    public String path;

    @Column(name = "created_at", nullable = false, updatable = false)
    public Instant createdAt;

    @PrePersist
    void prePersist() {
        if (createdAt == null) {
            createdAt = Instant.now();
        }
    }

    public static Optional<ArtifactEntity> findBySha256(String sha256) {
        return find("sha256", sha256).firstResultOptional();
    }
}
