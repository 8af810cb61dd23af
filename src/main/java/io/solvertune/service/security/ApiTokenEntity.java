package io.solvertune.service.security;

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

/** A bearer token (table {@code api_tokens}, Flyway {@code V2__api_tokens.sql}); only its sha256 is stored. */
@Entity
@Table(name = "api_tokens")
public class ApiTokenEntity extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "api_tokens_seq")
    @SequenceGenerator(name = "api_tokens_seq", sequenceName = "api_tokens_seq", allocationSize = 1)
    public Long id;

    @Column(name = "name", nullable = false, length = 200)
    public String name;

    /** {@link Role#id()}. */
    @Column(name = "role", nullable = false, length = 20)
    public String role;

    /** sha256 (lower-case hex) of the token string. */
    @Column(name = "token_hash", nullable = false, length = 64, columnDefinition = "bpchar(64)")
    public String tokenHash;

    @Column(name = "created_at", nullable = false, updatable = false)
    public Instant createdAt;

    @Column(name = "revoked_at")
    public Instant revokedAt;

    @PrePersist
    void prePersist() {
        if (createdAt == null) {
            createdAt = Instant.now();
        }
    }
}
