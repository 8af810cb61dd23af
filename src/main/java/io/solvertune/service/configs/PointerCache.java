package io.solvertune.service.configs;

import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The {@link ModelPointers} of the models in use, keyed by the model reference a client sends (its id or its name),
 * for the alias and {@code best} hot path. No framework imports: {@link ConfigPointers} wires it.
 *
 * <ul>
 *   <li><b>Staleness bound.</b> An entry answers for at most {@code ttl} after the read that produced it <em>started</em>
 *       and never longer: a change committed by another process at time T is seen by every lookup after T + ttl. An
 *       entry in use that is older than ttl/2 is read again once, in the background, so steady traffic does not
 *       miss (the same refresh-ahead as the token and model-flag caches).</li>
 *   <li><b>Invalidation.</b> {@link #invalidate} (a publish or promotion of this process, after its commit) drops the
 *       models' entries, and a read that started before it never stores its result: it may predate the change.</li>
 *   <li><b>Bounds.</b> At most {@code maxEntries} entries and {@code maxBytes} estimated bytes
 *       ({@link ModelPointers#bytes}); a snapshot over a quarter of the byte budget is replaced by
 *       {@link ModelPointers#tooLarge} (that model is then always answered by the resource). When full, arbitrary
 *       entries are dropped to make room; they load again on their next miss.</li>
 * </ul>
 */
final class PointerCache {

    private record Entry(ModelPointers value, long loadedAtNanos, long bytes) {
    }

    /** Bookkeeping bytes of one entry beyond the snapshot and the key's characters. */
    static final long ENTRY_BYTES = 96;

    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private final Set<String> reloading = ConcurrentHashMap.newKeySet();
    private final AtomicLong epoch = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicInteger count = new AtomicInteger();
    private final Object storeLock = new Object();
    private final Function<String, ModelPointers> loader;
    private final Executor background;
    private final long ttlNanos;
    private final int maxEntries;
    private final long maxBytes;
    private final LongSupplier clock;

    /**
     * @param loader     the blocking read of one model's pointers by reference (never null; on the caller's thread in
     *                   {@link #get}, on {@code background} for refresh-ahead)
     * @param background where refresh-ahead reads run (never an event-loop thread)
     */
    PointerCache(Function<String, ModelPointers> loader, Executor background, long ttlNanos, int maxEntries,
                 long maxBytes, LongSupplier clock) {
        if (ttlNanos <= 0 || maxEntries <= 0 || maxBytes <= 0) {
            throw new IllegalArgumentException("ttl, maxEntries and maxBytes must be positive");
        }
        this.loader = loader;
        this.background = background;
        this.ttlNanos = ttlNanos;
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
        this.clock = clock;
    }

    /** The pointers read within the TTL, else null; never blocks (safe on an event loop). */
    ModelPointers peek(String key) {
        Entry e = entries.get(key);
        if (e == null) {
            return null;
        }
        long age = clock.getAsLong() - e.loadedAtNanos();
        if (age >= ttlNanos) {
            remove(key, e);
            return null;
        }
        if (age >= ttlNanos / 2) {
            refreshInBackground(key);
        }
        return e.value();
    }

    /** The pointers, read on this thread if there are none within the TTL. */
    ModelPointers get(String key) {
        ModelPointers v = peek(key);
        return v != null ? v : load(key);
    }

    /** Drops the entries of these models; reads that started before this call do not store their result. */
    void invalidate(Collection<Long> modelIds) {
        synchronized (storeLock) {
            epoch.incrementAndGet();
            for (Map.Entry<String, Entry> e : entries.entrySet()) {
                if (modelIds.contains(e.getValue().value().modelId())) {
                    remove(e.getKey(), e.getValue());
                }
            }
        }
    }

    /** Drops everything; reads that started before this call do not store their result. */
    void clear() {
        synchronized (storeLock) {
            epoch.incrementAndGet();
            for (Map.Entry<String, Entry> e : entries.entrySet()) {
                remove(e.getKey(), e.getValue());
            }
        }
    }

    int size() {
        return count.get();
    }

    long bytes() {
        return bytes.get();
    }

    private ModelPointers load(String key) {
        long startEpoch = epoch.get();
        long startedAt = clock.getAsLong();
        ModelPointers v = loader.apply(key);
        if (v == null) {
            throw new IllegalStateException("pointer loader returned null for " + key);
        }
        long size = ENTRY_BYTES + 2L * key.length() + v.bytes();
        if (size > maxBytes / 4) {
            v = ModelPointers.tooLarge(v.modelId());
            size = ENTRY_BYTES + 2L * key.length() + v.bytes();
        }
        store(key, new Entry(v, startedAt, size), startEpoch);
        return v;
    }

    private void store(String key, Entry neu, long startEpoch) {
        // Stores and invalidations exclude each other: a store either completes before an invalidation (which then
        // finds and drops the entry) or sees the new epoch and keeps nothing, because what it read may predate the
        // change. Without the lock, a store that checked the epoch just before an invalidation could put its stale
        // entry in after the invalidation had looked. Stores are rare (a miss, or one refresh per TTL/2 per entry in
        // use); lookups never take the lock.
        synchronized (storeLock) {
            if (epoch.get() != startEpoch) {
                return;
            }
            makeRoom(neu.bytes());
            entries.compute(key, (k, old) -> {
                if (old != null && old.loadedAtNanos() - neu.loadedAtNanos() > 0) {
                    return old; // a read that started later already stored its result
                }
                if (!reserve(neu.bytes() - (old == null ? 0 : old.bytes()), old == null ? 1 : 0)) {
                    return old; // does not fit even after making room (a huge entry): not kept
                }
                return neu;
            });
        }
    }

    /** Drops arbitrary entries until one of {@code size} bytes fits. */
    private void makeRoom(long size) {
        Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
        while ((count.get() >= maxEntries || bytes.get() + size > maxBytes) && it.hasNext()) {
            Map.Entry<String, Entry> e = it.next();
            remove(e.getKey(), e.getValue());
        }
    }

    /** Takes {@code deltaBytes} and {@code deltaEntries} from the budget if they fit (only stores add; they hold the lock). */
    private boolean reserve(long deltaBytes, int deltaEntries) {
        if ((deltaBytes > 0 && bytes.get() + deltaBytes > maxBytes)
                || (deltaEntries > 0 && count.get() + deltaEntries > maxEntries)) {
            return false;
        }
        bytes.addAndGet(deltaBytes);
        count.addAndGet(deltaEntries);
        return true;
    }

    /** Removes the entry if it is still {@code e}, returning its bytes to the budget. */
    private void remove(String key, Entry e) {
        if (entries.remove(key, e)) {
            bytes.addAndGet(-e.bytes());
            count.decrementAndGet();
        }
    }

    private void refreshInBackground(String key) {
        if (!reloading.add(key)) {
            return;
        }
        try {
            background.execute(() -> {
                try {
                    load(key);
                } catch (RuntimeException ignored) {
                    // the entry keeps answering until its TTL; after that the resource answers and reports errors
                } finally {
                    reloading.remove(key);
                }
            });
        } catch (RejectedExecutionException e) {
            reloading.remove(key);
        }
    }
}
