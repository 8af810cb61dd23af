package io.solvertune.service.configs;

import io.solvertune.service.security.CacheRefresher;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import java.time.Duration;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Alias and recommendation pointers of the models in use, in memory, for {@link ConfigFastPath}: per model reference
 * (id or name, as clients send it) one {@link ModelPointers} snapshot read in one statement.
 *
 * <p>How a moved pointer becomes visible:
 * <ul>
 *   <li><b>In this process, at once.</b> {@link ConfigStore} fires {@link Moved} inside the transaction of every
 *       publish and promotion; this bean observes it after the commit ({@link TransactionPhase#AFTER_SUCCESS}, which
 *       runs before the commit returns to the publisher) and drops the models' snapshots. A read that started before
 *       the drop never stores its result, so the first lookup after {@code publish()} / {@code PUT .../stable} has
 *       returned already sees the new pointer.</li>
 *   <li><b>In other processes sharing the database, within {@code solvertune.configs.pointer-cache.ttl}</b> (default
 *       5 s): a snapshot answers for at most that long after the read that produced it started. This is the same
 *       bound, and the same refresh-ahead mechanism, as the token verdicts and the models' anonymous-read flags the
 *       hot path already relies on (a revoked token or a closed model is also honoured within 5 s elsewhere), so
 *       the alias path adds no weaker guarantee. PostgreSQL LISTEN/NOTIFY would shorten it, but needs one more held
 *       connection per process and a reconnect path, and would still need this TTL as the bound while the listener
 *       is down; alias responses themselves carry {@code max-age=60}, so clients and proxies may keep an answer
 *       for far longer than 5 s anyway.</li>
 * </ul>
 * Memory: at most {@code max-models} snapshots and {@code max-bytes} estimated bytes; a model with more than
 * {@code max-rows-per-model} pointers is never answered from memory (its requests go to the resource).
 */
@ApplicationScoped
public class ConfigPointers {

    private static final Logger LOG = Logger.getLogger(ConfigPointers.class);

    /** Fired inside a transaction that moves aliases or recommendations of these models. */
    public record Moved(Set<Long> modelIds) {
    }

    private final PointerCache cache;

    public ConfigPointers(ConfigReader reader, CacheRefresher refresher, ConfigsConfig config) {
        ConfigsConfig.PointerCache c = config.pointerCache();
        this.cache = new PointerCache(ref -> reader.pointers(ref, c.maxRowsPerModel()), refresher.executor(),
                c.ttl().toNanos(), c.maxModels(), c.maxBytes(), System::nanoTime);
    }

    /** The pointers of the model with this id or name if they were read within the TTL, else null (never blocks). */
    public ModelPointers peek(String modelRef) {
        return cache.peek(modelRef);
    }

    /**
     * Reads the model's pointers if they are not in memory (called by the resources after they answered, so that the
     * next request is answered from memory). A failure here is logged, not thrown: the request already has its answer.
     */
    public void warm(String modelRef) {
        try {
            cache.get(modelRef.strip());
        } catch (RuntimeException e) {
            LOG.debugf(e, "could not read the config pointers of model '%s'", modelRef);
        }
    }

    void moved(@Observes(during = TransactionPhase.AFTER_SUCCESS) Moved event) {
        cache.invalidate(event.modelIds());
    }

    /** Forgets every snapshot (tests). */
    void clear() {
        cache.clear();
    }

    /** Snapshots held (tests). */
    int size() {
        return cache.size();
    }
}
