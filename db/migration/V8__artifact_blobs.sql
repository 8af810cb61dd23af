-- solvertune schema v8: the shared artifact store's PostgreSQL backend (io.solvertune.service.artifacts.PgBlobStore).
-- Stage inputs and outputs (teacher shards, merged sets, EMS statistics, fitted sets, checkpoints) are content-addressed
-- blobs that every host reaches through the database; local disk only caches them.
-- A blob is written as chunks first (each its own short transaction, INSERT ... ON CONFLICT DO NOTHING: two writers of
-- the same content write the same bytes), then its blobs row: a blobs row exists => all its chunks exist.

CREATE TABLE blobs (
    sha256       CHAR(64)     PRIMARY KEY,          -- lower-case hex of the content's SHA-256
    size_bytes   BIGINT       NOT NULL,
    chunk_bytes  INTEGER      NOT NULL,             -- every chunk but the last has this size
    chunks       INTEGER      NOT NULL,
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT blobs_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT blobs_size_check CHECK (size_bytes >= 0 AND chunk_bytes > 0 AND chunks >= 0)
);

CREATE TABLE blob_chunks (
    sha256      CHAR(64)     NOT NULL,
    seq         INTEGER      NOT NULL,              -- 0-based
    data        BYTEA        NOT NULL,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),  -- chunks of a writer that died before its blobs row: GC by age
    PRIMARY KEY (sha256, seq)
);
