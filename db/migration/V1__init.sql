-- solvertune schema v1: registered models and published solver configs.
-- Ids come from sequences "<table>_seq" with INCREMENT BY 50 (Hibernate's pooled optimizer, allocationSize = 50).

-- ---------------------------------------------------------------------------------------------------------------------
-- models: a diffusion model the service tunes solvers for (analytic GMM/Gaussian, empirical dataset, TorchScript).
-- ---------------------------------------------------------------------------------------------------------------------
CREATE SEQUENCE models_seq START WITH 1 INCREMENT BY 50;

CREATE TABLE models (
    id              BIGINT       PRIMARY KEY,
    name            VARCHAR(200) NOT NULL,
    kind            VARCHAR(40)  NOT NULL,           -- analytic | empirical | torchscript | ...
    spec            JSONB        NOT NULL,           -- the model spec as submitted (canonical JSON)
    content_hash    VARCHAR(64)  NOT NULL,           -- sha256 (hex) of the canonical spec + referenced content
    schedule        JSONB        NOT NULL,           -- noise schedule spec
    prediction_type VARCHAR(20)  NOT NULL,           -- noise | data | v | score | flow_velocity
    description     TEXT,
    anonymous_read  BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT models_name_key UNIQUE (name),
    CONSTRAINT models_content_hash_check CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT models_prediction_type_check
        CHECK (prediction_type IN ('noise', 'data', 'v', 'score', 'flow_velocity'))
);

CREATE INDEX models_content_hash_idx ON models (content_hash);

-- ---------------------------------------------------------------------------------------------------------------------
-- solver_configs: published, immutable, versioned solver configurations (coefficients / time grids) for a model.
-- A new fit of the same key is a new version; rows are never updated (trigger below).
-- ---------------------------------------------------------------------------------------------------------------------
CREATE SEQUENCE solver_configs_seq START WITH 1 INCREMENT BY 50;

CREATE TABLE solver_configs (
    id             BIGINT           PRIMARY KEY,
    model_id       BIGINT           NOT NULL REFERENCES models (id) ON DELETE RESTRICT,
    method         VARCHAR(40)      NOT NULL,        -- tuning method: baseline | ems | iia | dc | dode | consistency ...
    solver         VARCHAR(40)      NOT NULL,        -- SolverCatalog name: dpmsolver++, unipc, ...
    solver_options JSONB            NOT NULL DEFAULT '{}'::jsonb,  -- SolverCatalog options (order, variant, ...)
    nfe            INTEGER          NOT NULL,        -- number of function evaluations
    guidance       DOUBLE PRECISION NOT NULL DEFAULT 1.0,  -- classifier-free guidance scale; 1.0 = unguided
    spacing        VARCHAR(40)      NOT NULL,        -- time_uniform | logSNR | time_quadratic | karras | explicit
    t_start        DOUBLE PRECISION NOT NULL,        -- start time (noise end)
    t_end          DOUBLE PRECISION NOT NULL,        -- end time
    version        INTEGER          NOT NULL,        -- 1, 2, ... per key
    values         JSONB            NOT NULL,        -- the fitted values (coefficients, time grid), versioned codec
    metrics        JSONB            NOT NULL DEFAULT '{}'::jsonb,  -- validation: MSE vs teacher, improvement ratio
    provenance     JSONB            NOT NULL,        -- code version, teacher, seeds, data hashes, job id
    created_at     TIMESTAMPTZ      NOT NULL DEFAULT now(),
    CONSTRAINT solver_configs_key
        UNIQUE (model_id, method, solver, solver_options, nfe, guidance, spacing, t_start, t_end, version),
    CONSTRAINT solver_configs_nfe_check CHECK (nfe > 0),
    CONSTRAINT solver_configs_version_check CHECK (version > 0),
    CONSTRAINT solver_configs_guidance_check CHECK (guidance >= 0),
    CONSTRAINT solver_configs_t_range_check CHECK (t_start <> t_end)
);

CREATE INDEX solver_configs_model_idx ON solver_configs (model_id, nfe);

-- Published configs are immutable: clients pin them by id/version (ETags). Refuse every UPDATE.
CREATE FUNCTION solver_configs_refuse_update() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'solver config % is published and immutable; publish a new version instead', OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER solver_configs_immutable
    BEFORE UPDATE ON solver_configs
    FOR EACH ROW EXECUTE FUNCTION solver_configs_refuse_update();
