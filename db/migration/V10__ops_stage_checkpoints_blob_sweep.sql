-- solvertune schema v10 (issue 20, ops): checkpoints of running stages in the shared artifact store, and the sweep of
-- blobs nothing refers to any more (io.solvertune.service.ops.CheckpointSync, io.solvertune.service.ops.BlobSweeper).

-- The latest checkpoint a running stage uploaded: its directory (workDir/<stage>) as a solvertune-tree manifest blob
-- (V8), written while the stage runs (throttled) and once more with the finished directory. A worker that claims the
-- stage on another host fetches it before running, so the stage resumes instead of starting from zero. Only the lease
-- holder writes (the upsert checks job_stages); a newer upload replaces the row, and the tree it replaced becomes
-- garbage for the sweep.
CREATE TABLE stage_checkpoints (
    job_id       BIGINT        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    stage        VARCHAR(200)  NOT NULL,
    attempt      INTEGER       NOT NULL,              -- job_stages.attempts of the run that uploaded it
    tree_sha256  CHAR(64)      NOT NULL,
    files        INTEGER       NOT NULL,
    size_bytes   BIGINT        NOT NULL,              -- sum of the files' sizes
    final        BOOLEAN       NOT NULL DEFAULT FALSE, -- the finished stage's directory
    uploaded_by  VARCHAR(200)  NOT NULL,              -- lease owner (host:pid:uuid)
    created_at   TIMESTAMPTZ   NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, stage)
);

-- When a blob was last stored or found already stored by a writer (who then refers to it within seconds): the sweep
-- keeps every blob used more recently than its minimum age, so it never deletes a blob a writer is about to refer to.
ALTER TABLE blobs ADD COLUMN last_used_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- The sweep of chunks whose blob row never came (a writer died) looks for old chunks.
CREATE INDEX blob_chunks_created_idx ON blob_chunks (created_at);

-- One row: when the next sweep is due. A worker sweeps only after moving next_at forward in a conditional UPDATE, so
-- one worker in the fleet sweeps per interval; a sweeper that dies leaves nothing held (the next one is due at next_at).
CREATE TABLE blob_sweeps (
    id                 SMALLINT      PRIMARY KEY DEFAULT 1,
    next_at            TIMESTAMPTZ   NOT NULL DEFAULT now(),
    last_started_at    TIMESTAMPTZ,
    last_finished_at   TIMESTAMPTZ,
    last_owner         VARCHAR(200),
    last_swept_bytes   BIGINT        NOT NULL DEFAULT 0,
    total_swept_bytes  BIGINT        NOT NULL DEFAULT 0,
    CONSTRAINT blob_sweeps_one_row CHECK (id = 1)
);
INSERT INTO blob_sweeps (id) VALUES (1);
