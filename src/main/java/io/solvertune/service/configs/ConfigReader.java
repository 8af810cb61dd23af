package io.solvertune.service.configs;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.solvertune.service.persistence.ModelEntity;
import io.solvertune.service.registry.ModelReadAccessChanged;
import io.solvertune.service.security.CacheRefresher;
import io.solvertune.service.security.RefreshAheadCache;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.persistence.EntityManager;
import jakarta.persistence.TypedQuery;
import jakarta.ws.rs.NotFoundException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The config store, read side. Fetching one config by id is the hot path: its serialized bytes and ETag come from a
 * bounded in-memory cache (config rows are immutable, so a cached body never goes stale), and the model's
 * anonymous-read flag from a cache with a short TTL (dropped at once when this process changes the flag); a miss
 * costs one indexed query. Alias and recommendation pointers for the in-memory alias path are read here too
 * ({@link #pointers}) and kept by {@link ConfigPointers}.
 */
@ApplicationScoped
public class ConfigReader {

    /** One config as served: its bytes, strong ETag and the model it belongs to. */
    public record Served(long id, long modelId, int version, String sha256, String etag, byte[] body) {
    }

    /** A model as the config API needs it. */
    public record ModelRef(long id, String name, boolean anonymousRead, String predictionType, JsonNode spec) {
    }

    /** One row of a config listing (the document without its values). */
    public record ConfigSummary(long id, long modelId, String model, String method, String solver,
                                JsonNode solverOptions, int nfe, double guidance, String spacing, double tStart,
                                double tEnd, int version, String sha256, long jobId, Double heldOutMse,
                                Instant createdAt) {
    }

    /** A page of configs sorted by id; {@code nextAfter}/{@code next} are null on the last page. */
    public record ConfigPage(List<ConfigSummary> items, Long nextAfter, String next) {
    }

    /** Filters of a listing or an alias lookup (null = any). */
    public record Filter(Long modelId, String method, String solver, Integer nfe, Double guidance, String spacing) {
    }

    private final EntityManager em;
    private final ConcurrentHashMap<Long, Served> bodies = new ConcurrentHashMap<>();
    private final AtomicLong cachedBytes = new AtomicLong();
    /** model id → anonymous-read flag, refreshed ahead of expiry while in use */
    private final RefreshAheadCache<Long, Boolean> anonymous;
    private final int maxEntries;
    private final long maxBytes;

    public ConfigReader(EntityManager em, ConfigsConfig config, CacheRefresher refresher) {
        this.em = em;
        this.maxEntries = config.cache().maxEntries();
        this.maxBytes = config.cache().maxBytes();
        this.anonymous = new RefreshAheadCache<>(this::loadAnonymousRead, refresher.executor(),
                config.modelCacheTtl().toNanos(), maxEntries);
    }

    // ---- one config --------------------------------------------------------------------------------------------------

    /** The served form of config {@code id}, or empty if there is none. */
    public Optional<Served> served(long id) {
        Served s = bodies.get(id);
        if (s != null) {
            return Optional.of(s);
        }
        Optional<Served> loaded = QuarkusTransaction.requiringNew().call(() -> {
            List<Object[]> rows = em.createQuery("SELECT c.model.id, c.version, c.sha256, c.document FROM "
                    + "SolverConfigEntity c WHERE c.id = :id", Object[].class).setParameter("id", id).getResultList();
            if (rows.isEmpty()) {
                return Optional.<Served>empty();
            }
            Object[] r = rows.get(0);
            String sha = (String) r[2];
            return Optional.of(new Served(id, (Long) r[0], (Integer) r[1], sha, "\"" + sha + "\"",
                    ((String) r[3]).getBytes(StandardCharsets.UTF_8)));
        });
        loaded.ifPresent(this::remember);
        return loaded;
    }

    private void remember(Served s) {
        long size = s.body().length;
        if (size > maxBytes / 4) {
            return; // a huge document (inline EMS) would push everything else out
        }
        Iterator<Long> victims = bodies.keySet().iterator();
        while ((bodies.size() >= maxEntries || cachedBytes.get() + size > maxBytes) && victims.hasNext()) {
            Served old = bodies.remove(victims.next());
            if (old != null) {
                cachedBytes.addAndGet(-old.body().length);
            }
        }
        if (bodies.putIfAbsent(s.id(), s) == null) {
            cachedBytes.addAndGet(size);
        }
    }

    /** The cached served form of config {@code id}, or null (never queries the database). */
    public Served cached(long id) {
        return bodies.get(id);
    }

    /** The cached anonymous-read flag of a model, or null if it is not cached or expired (never queries). */
    public Boolean cachedAnonymousRead(long modelId) {
        return anonymous.peek(modelId);
    }

    /** Whether anonymous clients may read the model's configs (cached for {@code solvertune.configs.model-cache-ttl}). */
    public boolean anonymousRead(long modelId) {
        return anonymous.get(modelId);
    }

    /** A committed anonymousRead change of this process is honoured at once (other processes: within the TTL). */
    void readAccessChanged(@Observes ModelReadAccessChanged event) {
        anonymous.invalidate(event.modelId());
    }

    private Boolean loadAnonymousRead(long modelId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            List<Boolean> r = em.createQuery("SELECT m.anonymousRead FROM ModelEntity m WHERE m.id = :id",
                    Boolean.class).setParameter("id", modelId).getResultList();
            return !r.isEmpty() && r.get(0);
        });
    }

    // ---- models ------------------------------------------------------------------------------------------------------

    /** The model with this id (digits) or name; 404 naming it otherwise. */
    public ModelRef model(String idOrName) {
        if (idOrName == null || idOrName.isBlank()) {
            throw new IllegalArgumentException("model: required (a model id or name)");
        }
        String s = idOrName.strip();
        return QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity m = find(s);
            if (m == null) {
                throw new NotFoundException("no model '" + s + "' (give a registered model's id or name)");
            }
            return new ModelRef(m.id, m.name, m.anonymousRead, m.predictionType, m.spec);
        });
    }

    /** The model a stripped reference names: digits are an id first, then a name (the one rule for every lookup). */
    private ModelEntity find(String s) {
        ModelEntity m = null;
        if (s.matches("\\d{1,18}")) {
            m = em.find(ModelEntity.class, Long.parseLong(s));
        }
        if (m == null) {
            m = ModelEntity.findByName(s).orElse(null);
        }
        return m;
    }

    /** The model a config belongs to. */
    public ModelRef model(long modelId) {
        return model(Long.toString(modelId));
    }

    // ---- pointers (aliases and recommendations) -----------------------------------------------------------------------

    /**
     * Every alias and recommendation of the model with this id or name, read in one statement (one snapshot), for the
     * in-memory alias path ({@link ConfigPointers}); {@link ModelPointers#tooLarge} if the model has more than
     * {@code maxRows} of them, {@link ModelPointers#unknownModel} if there is no such model.
     */
    public ModelPointers pointers(String idOrName, int maxRows) {
        String s = idOrName.strip();
        return QuarkusTransaction.requiringNew().call(() -> {
            ModelEntity m = s.isEmpty() ? null : find(s);
            if (m == null) {
                return ModelPointers.unknownModel();
            }
            List<?> rows = em.createNativeQuery("SELECT a.alias, a.config_id, c.method, c.solver, c.nfe, c.guidance, "
                    + "c.spacing FROM config_aliases a JOIN solver_configs c ON c.id = a.config_id WHERE a.model_id = :m "
                    + "UNION ALL SELECT NULL, r.config_id, NULL, NULL, r.nfe, r.guidance, NULL "
                    + "FROM config_recommendations r WHERE r.model_id = :m LIMIT :limit")
                    .setParameter("m", m.id).setParameter("limit", maxRows + 1).getResultList();
            if (rows.size() > maxRows) {
                return ModelPointers.tooLarge(m.id);
            }
            List<ModelPointers.AliasRow> aliases = new ArrayList<>();
            List<ModelPointers.Recommendation> recommendations = new ArrayList<>();
            for (Object o : rows) {
                Object[] r = (Object[]) o;
                long config = ((Number) r[1]).longValue();
                int nfe = ((Number) r[4]).intValue();
                double guidance = ((Number) r[5]).doubleValue();
                if (r[0] == null) {
                    recommendations.add(new ModelPointers.Recommendation(nfe, guidance, config));
                } else {
                    aliases.add(new ModelPointers.AliasRow((String) r[0], config, (String) r[2], (String) r[3], nfe,
                            guidance, (String) r[6]));
                }
            }
            return ModelPointers.of(m.id, aliases, recommendations);
        });
    }

    // ---- queries -----------------------------------------------------------------------------------------------------

    /** A page of configs matching {@code f}, ids above {@code after}, sorted by id. */
    public ConfigPage list(Filter f, int limit, long after, String nextLinkBase) {
        return QuarkusTransaction.requiringNew().call(() -> {
            StringBuilder q = new StringBuilder("SELECT c.id, m.id, m.name, c.method, c.solver, c.solverOptions, "
                    + "c.nfe, c.guidance, c.spacing, c.tStart, c.tEnd, c.version, c.sha256, c.jobId, c.heldOutMse, "
                    + "c.createdAt FROM SolverConfigEntity c JOIN c.model m WHERE c.id > :after");
            where(q, f);
            q.append(" ORDER BY c.id");
            TypedQuery<Object[]> tq = em.createQuery(q.toString(), Object[].class).setParameter("after", after)
                    .setMaxResults(limit + 1);
            bind(tq, f);
            List<Object[]> rows = tq.getResultList();
            List<ConfigSummary> items = new ArrayList<>();
            for (int i = 0; i < Math.min(limit, rows.size()); i++) {
                Object[] r = rows.get(i);
                items.add(new ConfigSummary((Long) r[0], (Long) r[1], (String) r[2], (String) r[3], (String) r[4],
                        (JsonNode) r[5], (Integer) r[6], (Double) r[7], (String) r[8], (Double) r[9], (Double) r[10],
                        (Integer) r[11], (String) r[12], (Long) r[13], (Double) r[14], (Instant) r[15]));
            }
            if (rows.size() <= limit) {
                return new ConfigPage(items, null, null);
            }
            long next = items.get(items.size() - 1).id();
            return new ConfigPage(items, next, nextLinkBase + "&limit=" + limit + "&after=" + next);
        });
    }

    /** The recommended config of (model, NFE, guidance), if a publish chose one. */
    public Optional<Long> recommended(long modelId, int nfe, double guidance) {
        return QuarkusTransaction.requiringNew().call(() -> em.createNativeQuery("SELECT config_id FROM "
                        + "config_recommendations WHERE model_id = :m AND nfe = :n AND guidance = :g", Long.class)
                .setParameter("m", modelId).setParameter("n", nfe).setParameter("g", guidance).getResultList()
                .stream().map(o -> ((Number) o).longValue()).findFirst());
    }

    /** The (NFE, guidance) pairs that have a recommended config, as "nfe N guidance G" texts (for 404 details). */
    public List<String> recommendedKeys(long modelId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            List<?> rows = em.createNativeQuery("SELECT nfe, guidance FROM config_recommendations WHERE model_id = :m "
                    + "ORDER BY nfe, guidance").setParameter("m", modelId).setMaxResults(50).getResultList();
            List<String> out = new ArrayList<>();
            for (Object o : rows) {
                Object[] r = (Object[]) o;
                out.add("nfe " + r[0] + " guidance " + r[1]);
            }
            return out;
        });
    }

    /**
     * The configs the alias points at for every key of the model matching {@code f}: {@code [configId, version]}
     * pairs (one per key).
     */
    public List<long[]> alias(String alias, Filter f) {
        return QuarkusTransaction.requiringNew().call(() -> {
            StringBuilder q = new StringBuilder("SELECT a.config_id, c.version FROM config_aliases a JOIN "
                    + "solver_configs c ON c.id = a.config_id WHERE a.alias = :alias AND a.model_id = :modelId");
            List<Object[]> params = new ArrayList<>();
            params.add(new Object[] {"alias", alias});
            params.add(new Object[] {"modelId", f.modelId()});
            if (f.method() != null) {
                q.append(" AND c.method = :method");
                params.add(new Object[] {"method", f.method()});
            }
            if (f.solver() != null) {
                q.append(" AND c.solver = :solver");
                params.add(new Object[] {"solver", f.solver()});
            }
            if (f.nfe() != null) {
                q.append(" AND c.nfe = :nfe");
                params.add(new Object[] {"nfe", f.nfe()});
            }
            if (f.guidance() != null) {
                q.append(" AND c.guidance = :guidance");
                params.add(new Object[] {"guidance", f.guidance()});
            }
            if (f.spacing() != null) {
                q.append(" AND c.spacing = :spacing");
                params.add(new Object[] {"spacing", f.spacing()});
            }
            q.append(" ORDER BY a.config_id LIMIT 20");
            var nq = em.createNativeQuery(q.toString());
            for (Object[] p : params) {
                nq.setParameter((String) p[0], p[1]);
            }
            List<long[]> out = new ArrayList<>();
            for (Object o : nq.getResultList()) {
                Object[] r = (Object[]) o;
                out.add(new long[] {((Number) r[0]).longValue(), ((Number) r[1]).longValue()});
            }
            return out;
        });
    }

    private static void where(StringBuilder q, Filter f) {
        if (f.modelId() != null) {
            q.append(" AND m.id = :modelId");
        }
        if (f.method() != null) {
            q.append(" AND c.method = :method");
        }
        if (f.solver() != null) {
            q.append(" AND c.solver = :solver");
        }
        if (f.nfe() != null) {
            q.append(" AND c.nfe = :nfe");
        }
        if (f.guidance() != null) {
            q.append(" AND c.guidance = :guidance");
        }
        if (f.spacing() != null) {
            q.append(" AND c.spacing = :spacing");
        }
    }

    private static void bind(TypedQuery<?> q, Filter f) {
        if (f.modelId() != null) {
            q.setParameter("modelId", f.modelId());
        }
        if (f.method() != null) {
            q.setParameter("method", f.method());
        }
        if (f.solver() != null) {
            q.setParameter("solver", f.solver());
        }
        if (f.nfe() != null) {
            q.setParameter("nfe", f.nfe());
        }
        if (f.guidance() != null) {
            q.setParameter("guidance", f.guidance());
        }
        if (f.spacing() != null) {
            q.setParameter("spacing", f.spacing());
        }
    }
}
