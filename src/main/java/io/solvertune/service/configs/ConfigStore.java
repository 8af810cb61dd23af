package io.solvertune.service.configs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.service.persistence.ModelEntity;
import io.solvertune.service.persistence.SolverConfigEntity;
import io.solvertune.tuning.Json;
import io.solvertune.tuning.publish.CanonicalJson;
import io.solvertune.tuning.publish.ConfigCandidate;
import io.solvertune.tuning.publish.ConfigDocument;
import io.solvertune.tuning.publish.ConfigProvenance;
import io.solvertune.tuning.publish.ConfigValues;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The versioned config store, write side: every validated (typed) candidate of a job becomes the next version of its key
 * (model x method x solver/options x NFE x guidance x spacing x t-range), with its canonical document and sha256
 * computed once; the key's {@code latest} alias moves to it; and per (model, NFE, guidance) covered by the publish the
 * {@code recommended} config becomes the validated candidate with the lowest held-out MSE among all of the publish's
 * methods and baselines. Config rows are only inserted (the database refuses UPDATEs); aliases are rows that move.
 */
@ApplicationScoped
public class ConfigStore implements ConfigPublisher {

    /** Version of the served document layout. */
    public static final int DOCUMENT_FORMAT = ConfigDocument.FORMAT;

    private final EntityManager em;
    /** Observed after the commit by {@link ConfigPointers}, which then drops the models' in-memory pointers. */
    private final Event<ConfigPointers.Moved> moved;

    public ConfigStore(EntityManager em, Event<ConfigPointers.Moved> moved) {
        this.em = em;
        this.moved = moved;
    }

    @Override
    @Transactional
    public List<Long> publish(long jobId, List<ConfigCandidate> candidates) {
        if (candidates == null) {
            throw new IllegalArgumentException("candidates: required");
        }
        // serialise publishes touching the same models (versions and aliases of a key): lock the model rows in id order
        TreeSet<Long> modelIds = new TreeSet<>();
        for (ConfigCandidate c : candidates) {
            if (c.validated()) {
                modelIds.add(c.modelId());
            }
        }
        Map<Long, ModelEntity> models = new LinkedHashMap<>();
        for (long id : modelIds) {
            ModelEntity m = em.find(ModelEntity.class, id, LockModeType.PESSIMISTIC_WRITE);
            if (m == null) {
                throw new IllegalArgumentException("modelId: no model " + id);
            }
            models.put(id, m);
        }
        List<Long> already = em.createQuery("SELECT c.id FROM SolverConfigEntity c WHERE c.jobId = :job ORDER BY c.id",
                Long.class).setParameter("job", jobId).getResultList();
        if (!already.isEmpty()) {
            return already; // idempotent per job
        }
        List<Long> ids = new ArrayList<>();
        Map<String, List<ConfigDocument>> groups = new LinkedHashMap<>();
        for (int i = 0; i < candidates.size(); i++) {
            ConfigCandidate c = candidates.get(i);
            if (!c.validated()) {
                continue;
            }
            ConfigDocument e = insert(jobId, i, c, models.get(c.modelId()));
            ids.add(e.id());
            moveAlias(e, "latest", "job " + jobId);
            if (e.heldOutMse() != null && e.heldOutMse() >= 0) {
                groups.computeIfAbsent(e.model().id() + "/" + e.nfe() + "/" + e.guidance(), k -> new ArrayList<>())
                        .add(e);
            }
        }
        for (List<ConfigDocument> g : groups.values()) {
            ConfigDocument best = g.get(0);
            for (ConfigDocument e : g) {
                if (e.heldOutMse() < best.heldOutMse()) {
                    best = e;
                }
            }
            recommend(best, g.size(), jobId);
        }
        if (!ids.isEmpty()) {
            moved.fire(new ConfigPointers.Moved(Set.copyOf(modelIds))); // latest and recommended moved
        }
        return ids;
    }

    private ConfigDocument insert(long jobId, int index, ConfigCandidate c, ModelEntity model) {
        String at = "candidates[" + index + "].";
        require(c.method() != null && c.method().matches("[a-z0-9][a-z0-9+._-]{0,39}"), at + "method",
                "expected a lower-case method name (baseline, dc, iia-ddim, dpmsolver-v3, ...), got " + c.method());
        require(c.solver() != null && c.solver().matches("[a-z0-9][a-z0-9+._-]{0,39}"), at + "solver",
                "expected a solver catalog name, got " + c.solver());
        require(c.spacing() != null && c.spacing().matches("[A-Za-z0-9_.()=-]{1,40}"), at + "spacing",
                "expected a spacing name, got " + c.spacing());
        require(c.nfe() > 0, at + "nfe", "must be positive, got " + c.nfe());
        require(Double.isFinite(c.guidance()) && c.guidance() >= 0, at + "guidance",
                "must be a finite number >= 0, got " + c.guidance());
        require(Double.isFinite(c.tStart()) && Double.isFinite(c.tEnd()) && c.tStart() != c.tEnd(), at + "tStart",
                "tStart and tEnd must be finite and differ");
        require(c.solverOptions() == null || c.solverOptions().isObject(), at + "solverOptions",
                "expected a JSON object");
        require(c.values() != null, at + "values", "required");
        ConfigValues values = c.values();
        require(values.nfe() == c.nfe(), at + "nfe", "is " + c.nfe() + " but the values spend " + values.nfe()
                + " model evaluations");
        JsonNode options = CanonicalJson.sorted(c.solverOptions() == null
                ? JsonNodeFactory.instance.objectNode() : c.solverOptions());
        ObjectNode key = JsonNodeFactory.instance.objectNode();
        key.put("modelId", model.id);
        key.put("method", c.method());
        key.put("solver", c.solver());
        key.set("solverOptions", options);
        key.put("nfe", c.nfe());
        key.put("guidance", c.guidance());
        key.put("spacing", c.spacing());
        key.put("tStart", c.tStart());
        key.put("tEnd", c.tEnd());
        String keyHash = CanonicalJson.sha256(CanonicalJson.write(key));
        Integer max = em.createQuery("SELECT max(c.version) FROM SolverConfigEntity c WHERE c.keyHash = :k",
                Integer.class).setParameter("k", keyHash).getSingleResult();

        ConfigDocument e = new ConfigDocument(nextId(), max == null ? 1 : max + 1, new ConfigDocument.Model(model.id,
                model.name, model.contentHash, model.predictionType), c.method(), c.solver(), options, c.nfe(),
                c.guidance(), c.spacing(), c.tStart(), c.tEnd(), keyHash, jobId,
                Double.isFinite(c.heldOutMse()) ? c.heldOutMse() : null, values,
                CanonicalJson.sorted(c.metrics() == null ? JsonNodeFactory.instance.objectNode()
                        : Json.MAPPER.valueToTree(c.metrics())),
                CanonicalJson.sorted(Json.MAPPER.valueToTree((c.provenance() == null
                        ? ConfigProvenance.codeVersion(null) : c.provenance()).withJobId(jobId))),
                Instant.now().truncatedTo(ChronoUnit.MICROS));
        String document = e.write();
        // one entity INSERT: the document quotes the id, so the id is drawn first and assigned (the generator keeps
        // it); solver_configs refuses UPDATEs, so the row is complete when it is persisted
        SolverConfigEntity row = new SolverConfigEntity();
        row.id = e.id();
        row.model = model;
        row.method = e.method();
        row.solver = e.solver();
        row.solverOptions = parsed(e.solverOptions());
        row.nfe = e.nfe();
        row.guidance = e.guidance();
        row.spacing = e.spacing();
        row.tStart = e.tStart();
        row.tEnd = e.tEnd();
        row.version = e.version();
        row.values = parsed(e.values().toJson());
        row.metrics = parsed(e.metrics());
        row.provenance = parsed(e.provenance());
        row.createdAt = e.createdAt();
        row.keyHash = keyHash;
        row.jobId = jobId;
        row.sha256 = CanonicalJson.sha256(document);
        row.document = document;
        row.heldOutMse = e.heldOutMse();
        em.persist(row);
        em.flush();     // the aliases and recommendation rows (native upserts) reference it
        // nothing reads the row again in this transaction: detached, it is not dirty-checked by every later flush (the
        // version query and the upserts flush; with the rows kept managed a publish of n configs compared O(n^2) JSON
        // columns, and 1,000 configs ran past the transaction timeout on a loaded machine)
        em.detach(row);
        return e;
    }

    /**
     * A JSON value as parsing its text gives it (e.g. floats as doubles): Hibernate's snapshot of a JSON column is such
     * a parse, so the managed row compares equal to it and no UPDATE is issued (the table refuses them).
     */
    private static JsonNode parsed(JsonNode v) {
        try {
            return Json.MAPPER.readTree(CanonicalJson.write(v));
        } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
            throw new IllegalStateException("a config's JSON does not parse back: " + x.getOriginalMessage(), x);
        }
    }

    /** A fresh id from the entity's sequence (step 1, as the entity's generator draws them). */
    private long nextId() {
        return SolverConfigEntity.nextId(em);
    }

    private void moveAlias(ConfigDocument e, String alias, String by) {
        em.createNativeQuery("INSERT INTO config_aliases (id, model_id, key_hash, alias, config_id, updated_at, "
                + "updated_by) VALUES (nextval('config_aliases_seq'), :m, :k, :a, :c, now(), :by) "
                + "ON CONFLICT (key_hash, alias) DO UPDATE SET config_id = EXCLUDED.config_id, "
                + "updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by")
                .setParameter("m", e.model().id()).setParameter("k", e.key()).setParameter("a", alias)
                .setParameter("c", e.id()).setParameter("by", by).executeUpdate();
    }

    private void recommend(ConfigDocument best, int among, long jobId) {
        em.createNativeQuery("INSERT INTO config_recommendations (id, model_id, nfe, guidance, config_id, held_out_mse, "
                + "candidates, job_id, updated_at) VALUES (nextval('config_recommendations_seq'), :m, :n, :g, :c, "
                + ":mse, :among, :job, now()) ON CONFLICT (model_id, nfe, guidance) DO UPDATE SET "
                + "config_id = EXCLUDED.config_id, held_out_mse = EXCLUDED.held_out_mse, "
                + "candidates = EXCLUDED.candidates, job_id = EXCLUDED.job_id, updated_at = EXCLUDED.updated_at")
                .setParameter("m", best.model().id()).setParameter("n", best.nfe()).setParameter("g", best.guidance())
                .setParameter("c", best.id()).setParameter("mse", best.heldOutMse()).setParameter("among", among)
                .setParameter("job", jobId).executeUpdate();
    }

    /**
     * Points the {@code stable} alias of the config's key at it (an admin's promotion).
     *
     * @return the key hash, or null if there is no such config
     */
    @Transactional
    public String promoteStable(long configId, String by) {
        List<Object[]> rows = em.createQuery("SELECT c.model.id, c.keyHash FROM SolverConfigEntity c WHERE c.id = :id",
                Object[].class).setParameter("id", configId).getResultList();
        if (rows.isEmpty()) {
            return null;
        }
        em.createNativeQuery("INSERT INTO config_aliases (id, model_id, key_hash, alias, config_id, updated_at, "
                + "updated_by) VALUES (nextval('config_aliases_seq'), :m, :k, 'stable', :c, now(), :by) "
                + "ON CONFLICT (key_hash, alias) DO UPDATE SET config_id = EXCLUDED.config_id, "
                + "updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by")
                .setParameter("m", rows.get(0)[0]).setParameter("k", rows.get(0)[1]).setParameter("c", configId)
                .setParameter("by", by).executeUpdate();
        moved.fire(new ConfigPointers.Moved(Set.of(((Number) rows.get(0)[0]).longValue())));
        return (String) rows.get(0)[1];
    }

    private static void require(boolean ok, String field, String message) {
        if (!ok) {
            throw new IllegalArgumentException(field + ": " + message);
        }
    }
}
