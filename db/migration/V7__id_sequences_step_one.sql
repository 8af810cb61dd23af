-- solvertune schema v7: ids step by 1. The <table>_seq sequences were created with INCREMENT BY 50 for Hibernate's
-- pooled allocation, so every process (service, `token create`) started a new block of 50 and ids read 1, 51, 101, ...;
-- config ids, taken with a plain nextval, always jumped by 50. From here on each sequence increments by 1 and the
-- entities allocate one id at a time (allocationSize = 1).
-- Existing rows keep their ids; each sequence continues at max(id) + 1 (1 for an empty table).
-- Stop every process of an older version before this runs: one still holding a block of 50 ids would hand them out
-- after the new numbering has reached them.

ALTER SEQUENCE models_seq INCREMENT BY 1;
ALTER SEQUENCE solver_configs_seq INCREMENT BY 1;
ALTER SEQUENCE api_tokens_seq INCREMENT BY 1;
ALTER SEQUENCE artifacts_seq INCREMENT BY 1;
ALTER SEQUENCE config_aliases_seq INCREMENT BY 1;
ALTER SEQUENCE config_recommendations_seq INCREMENT BY 1;

-- PERFORM, not SELECT: Flyway would print each result as a table in the service log
DO $$
BEGIN
    PERFORM setval('models_seq', COALESCE((SELECT max(id) FROM models), 0) + 1, false);
    PERFORM setval('solver_configs_seq', COALESCE((SELECT max(id) FROM solver_configs), 0) + 1, false);
    PERFORM setval('api_tokens_seq', COALESCE((SELECT max(id) FROM api_tokens), 0) + 1, false);
    PERFORM setval('artifacts_seq', COALESCE((SELECT max(id) FROM artifacts), 0) + 1, false);
    PERFORM setval('config_aliases_seq', COALESCE((SELECT max(id) FROM config_aliases), 0) + 1, false);
    PERFORM setval('config_recommendations_seq', COALESCE((SELECT max(id) FROM config_recommendations), 0) + 1, false);
END
$$;
