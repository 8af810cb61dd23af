-- solvertune schema v9: stage_artifacts, the stored directory (a solvertune-tree manifest blob, V8) of each stage that
-- ran with the shared artifact store: workDir/<stage> on the host that ran it. Any other host materialises it before
-- running a dependant stage or finishing the job (io.solvertune.service.ops.ArtifactSync). A rerun of the stage
-- replaces the row.
CREATE TABLE stage_artifacts (
    job_id       BIGINT        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    stage        VARCHAR(200)  NOT NULL,
    tree_sha256  CHAR(64)      NOT NULL,
    created_at   TIMESTAMPTZ   NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, stage)
);
