package io.solvertune.service.security;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * A small verdict cache for the request hot path (token lookups, per-model read flags): an entry answers for
 * {@code ttl} after it was loaded and never longer, but a read of an entry older than half its TTL starts one
 * background reload of that key. Under steady traffic an entry is therefore renewed before it expires and the hot path
 * never sees a miss — without it, every entry expiring at once sends all concurrent requests to the database together
 * (one latency spike per TTL, which is what the download benchmark's p99 showed).
 *
 * <p>{@link #invalidate} is ordered against in-flight reloads: a reload that started before the invalidation does not
 * store its (possibly stale) result, so a revoked token is never revived by a lookup that raced the revocation.
 */
public final class RefreshAheadCache<K, V> {

    private record Entry<V>(V value, long loadedAtNanos, long epoch) {
    }

    private final ConcurrentHashMap<K, Entry<V>> entries = new ConcurrentHashMap<>();
    private final Set<K> reloading = ConcurrentHashMap.newKeySet();
    private final AtomicLong epoch = new AtomicLong();
    private final Function<K, V> loader;
    private final Executor background;
    private final long ttlNanos;
    private final int maxEntries;
    private final LongSupplier clock;

    /**
     * @param loader     the blocking lookup (run on the caller's thread by {@link #get}, on {@code background} by
     *                   refresh-ahead); must not return null
     * @param background where refresh-ahead reloads run (never an event-loop thread)
     */
    public RefreshAheadCache(Function<K, V> loader, Executor background, long ttlNanos, int maxEntries,
                             LongSupplier clock) {
        if (ttlNanos <= 0 || maxEntries <= 0) {
            throw new IllegalArgumentException("ttl and maxEntries must be positive");
        }
        this.loader = loader;
        this.background = background;
        this.ttlNanos = ttlNanos;
        this.maxEntries = maxEntries;
        this.clock = clock;
    }

    public RefreshAheadCache(Function<K, V> loader, Executor background, long ttlNanos, int maxEntries) {
        this(loader, background, ttlNanos, maxEntries, System::nanoTime);
    }

    /** The value if it was loaded within the TTL, else null; never blocks (safe on an event loop). */
    public V peek(K key) {
        Entry<V> e = entries.get(key);
        if (e == null) {
            return null;
        }
        long age = clock.getAsLong() - e.loadedAtNanos();
        if (age >= ttlNanos) {
            return null;
        }
        if (age >= ttlNanos / 2) {
            refreshInBackground(key);
        }
        return e.value();
    }

    /** The value, loaded on this thread if there is none within the TTL. */
    public V get(K key) {
        V v = peek(key);
        return v != null ? v : load(key);
    }

    /** Forgets one key; reloads that started before this call do not store their result. */
    public void invalidate(K key) {
        epoch.incrementAndGet();
        entries.remove(key);
    }

    /** Forgets everything; reloads that started before this call do not store their result. */
    public void clear() {
        epoch.incrementAndGet();
        entries.clear();
    }

    /** Number of remembered keys (tests). */
    public int size() {
        return entries.size();
    }

    private V load(K key) {
        long startEpoch = epoch.get();
        long startedAt = clock.getAsLong();
        V v = loader.apply(key);
        if (v == null) {
            throw new IllegalStateException("cache loader returned null for " + key);
        }
        store(key, v, startedAt, startEpoch);
        return v;
    }

    private void store(K key, V v, long loadedAt, long startEpoch) {
        if (entries.size() >= maxEntries && !entries.containsKey(key)) {
            entries.clear();
        }
        // the entry's age counts from before the lookup: it never answers for longer than ttl after the database did
        entries.merge(key, new Entry<>(v, loadedAt, startEpoch),
                (old, neu) -> neu.loadedAtNanos() - old.loadedAtNanos() > 0 ? neu : old);
        if (epoch.get() != startEpoch) {
            // an invalidation ran while we were loading: what we read may predate it
            entries.computeIfPresent(key, (k, e) -> e.epoch() == startEpoch ? null : e);
        }
    }

    private void refreshInBackground(K key) {
        if (!reloading.add(key)) {
            return;
        }
        try {
            background.execute(() -> {
                try {
                    load(key);
                } catch (RuntimeException ignored) {
                    // the entry keeps answering until its TTL; the next read past the TTL loads on its own thread
                    // and reports the failure there
                } finally {
                    reloading.remove(key);
                }
            });
        } catch (RejectedExecutionException e) {
            reloading.remove(key);
        }
    }
}
