-- solvertune schema v4: the config store. Published configs stay immutable (trigger of V1); what moves are alias rows.
--   solver_configs gains the exact JSON document served for a version, its sha256 (the strong ETag, computed at
--   publish time), a hash of its key (model x method x solver/options x NFE x guidance x spacing x t-range) and the
--   producing job.
--   config_aliases: `latest` (moved by every publish of the key) and `stable` (moved by an admin) per key.
--   config_recommendations: per (model, NFE, guidance) the best validated candidate of the latest publish that
--   covered it, among all fitted methods and the untuned baselines (lowest held-out MSE).
-- Rows published before V4 cannot exist (nothing published before the config store); the new columns are required.

ALTER TABLE solver_configs
    ADD COLUMN key_hash  VARCHAR(64) NOT NULL,        -- sha256 (hex) of the canonical key JSON (versions share it)
    ADD COLUMN job_id    BIGINT      NOT NULL,        -- the tuning job that published it (jobs.id)
    ADD COLUMN sha256    VARCHAR(64) NOT NULL,        -- sha256 (hex) of document's UTF-8 bytes: the strong ETag
    ADD COLUMN document  TEXT        NOT NULL,        -- the canonical JSON served by GET /api/v1/configs/{id}
    ADD COLUMN held_out_mse DOUBLE PRECISION,         -- held-out MSE vs the teacher (ranking; also in metrics)
    ADD CONSTRAINT solver_configs_key_hash_check CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT solver_configs_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT solver_configs_key_hash_version_key UNIQUE (key_hash, version);

CREATE INDEX solver_configs_job_idx ON solver_configs (job_id);
CREATE INDEX solver_configs_query_idx ON solver_configs (model_id, method, nfe, guidance, id);

CREATE SEQUENCE config_aliases_seq START WITH 1 INCREMENT BY 50;

CREATE TABLE config_aliases (
    id          BIGINT       PRIMARY KEY,
    model_id    BIGINT       NOT NULL REFERENCES models (id) ON DELETE RESTRICT,
    key_hash    VARCHAR(64)  NOT NULL,                -- the key (solver_configs.key_hash) the alias belongs to
    alias       VARCHAR(20)  NOT NULL,                -- latest | stable
    config_id   BIGINT       NOT NULL REFERENCES solver_configs (id) ON DELETE RESTRICT,
    updated_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_by  VARCHAR(200),                         -- token name (stable) or 'job <id>' (latest)
    CONSTRAINT config_aliases_key UNIQUE (key_hash, alias),
    CONSTRAINT config_aliases_alias_check CHECK (alias IN ('latest', 'stable'))
);

CREATE INDEX config_aliases_model_idx ON config_aliases (model_id, alias);
CREATE INDEX config_aliases_config_idx ON config_aliases (config_id);

CREATE SEQUENCE config_recommendations_seq START WITH 1 INCREMENT BY 50;

CREATE TABLE config_recommendations (
    id           BIGINT           PRIMARY KEY,
    model_id     BIGINT           NOT NULL REFERENCES models (id) ON DELETE RESTRICT,
    nfe          INTEGER          NOT NULL,
    guidance     DOUBLE PRECISION NOT NULL,
    config_id    BIGINT           NOT NULL REFERENCES solver_configs (id) ON DELETE RESTRICT,
    held_out_mse DOUBLE PRECISION NOT NULL,           -- the winner's held-out MSE
    candidates   INTEGER          NOT NULL,           -- validated candidates it was chosen among
    job_id       BIGINT           NOT NULL,           -- the publish that chose it
    updated_at   TIMESTAMPTZ      NOT NULL DEFAULT now(),
    CONSTRAINT config_recommendations_key UNIQUE (model_id, nfe, guidance)
);

CREATE INDEX config_recommendations_config_idx ON config_recommendations (config_id);
