-- solvertune schema v2: bearer tokens with roles. The token itself is shown once at creation; only its sha256 is kept.
CREATE SEQUENCE api_tokens_seq START WITH 1 INCREMENT BY 50;

CREATE TABLE api_tokens (
    id          BIGINT       PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,               -- who or what holds it (free text, for the admin)
    role        VARCHAR(20)  NOT NULL,               -- admin | submitter | reader
    token_hash  CHAR(64)     NOT NULL,               -- sha256 (hex) of the token string
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ,
    CONSTRAINT api_tokens_hash_key UNIQUE (token_hash),
    CONSTRAINT api_tokens_hash_check CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT api_tokens_role_check CHECK (role IN ('admin', 'submitter', 'reader'))
);
