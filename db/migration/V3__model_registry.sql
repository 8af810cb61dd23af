-- solvertune schema v3: the model registry. Artifacts (content-addressed files under the artifact root) and what the
-- registry records about a model besides its spec: sample shape, conditioning, data type, uploaded file, who added it.

-- ---------------------------------------------------------------------------------------------------------------------
-- artifacts: one row per stored file, content-addressed by sha256 (the file is <artifact root>/<path>, written once,
-- read-only afterwards). A row exists only while its file exists; rows referenced by models (or, later, by teacher
-- sets and EMS statistics) cannot be deleted (foreign keys ON DELETE RESTRICT).
-- ---------------------------------------------------------------------------------------------------------------------
CREATE SEQUENCE artifacts_seq START WITH 1 INCREMENT BY 50;

CREATE TABLE artifacts (
    id          BIGINT       PRIMARY KEY,
    kind        VARCHAR(40)  NOT NULL,               -- torchscript | trajectories | ems | ... (first writer's kind)
    sha256      VARCHAR(64)  NOT NULL,               -- sha256 (lower-case hex) of the file's bytes
    size_bytes  BIGINT       NOT NULL,
    path        TEXT         NOT NULL,               -- relative to the artifact root: sha256/ab/abcdef...
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT artifacts_sha256_key UNIQUE (sha256),
    CONSTRAINT artifacts_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT artifacts_size_check CHECK (size_bytes >= 0)
);

-- ---------------------------------------------------------------------------------------------------------------------
-- models: registry facts, filled from the validated model at registration (the defaults only serve rows written by
-- other code paths, e.g. tests).
-- ---------------------------------------------------------------------------------------------------------------------
ALTER TABLE models
    ADD COLUMN preset       VARCHAR(40),                           -- built-in preset name (spec = {"preset": name})
    ADD COLUMN input_shape  INTEGER[]    NOT NULL DEFAULT '{}',    -- shape of one sample, e.g. {1,28,28} or {32}
    ADD COLUMN num_classes  INTEGER      NOT NULL DEFAULT 0,       -- 0 = unconditional
    ADD COLUMN dtype        VARCHAR(10)  NOT NULL DEFAULT 'float64', -- data type sampling runs in
    ADD COLUMN artifact_id  BIGINT       REFERENCES artifacts (id) ON DELETE RESTRICT,  -- uploaded file, if any
    ADD COLUMN parameter_count BIGINT,                             -- TorchScript: number of parameter values
    ADD COLUMN created_by   VARCHAR(200),                          -- name of the token that registered it
    ADD CONSTRAINT models_num_classes_check CHECK (num_classes >= 0),
    ADD CONSTRAINT models_dtype_check CHECK (dtype IN ('float32', 'float64')),
    ADD CONSTRAINT models_kind_check CHECK (kind ~ '^[a-z][a-z0-9_]*$');

CREATE INDEX models_artifact_idx ON models (artifact_id);
CREATE INDEX models_kind_idx ON models (kind, id);
