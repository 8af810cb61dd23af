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
 *
 * <p>Bounded: a full cache first drops its expired entries and then the eighth of its entries read longest ago — it
 * never starts over empty, so a burst of new keys cannot flush the keys in use.
 */
public final class RefreshAheadCache<K, V> {

    private static final class Entry<V> {
        final V value;
        final long loadedAtNanos;
        final long epoch;
        /** when the entry last answered a read: the eviction order (least recently read first) */
        volatile long readAtNanos;

        Entry(V value, long loadedAtNanos, long epoch) {
            this.value = value;
            this.loadedAtNanos = loadedAtNanos;
            this.epoch = epoch;
            this.readAtNanos = loadedAtNanos;
        }

        V value() {
            return value;
        }

        long loadedAtNanos() {
            return loadedAtNanos;
        }

        long epoch() {
            return epoch;
        }
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
        long now = clock.getAsLong();
        long age = now - e.loadedAtNanos();
        if (age >= ttlNanos) {
            return null;
        }
        e.readAtNanos = now;
        if (age >= ttlNanos / 2) {
            refreshInBackground(key);
        }
        return e.value();
    }

    /** The value, loaded on this thread if there is none within the TTL. */
    public V get(K key) {
        V v = peek(key);
        return v != null ? v : load(key, x -> true);
    }

    /**
     * Loads {@code key} on this thread (whether or not an entry is present) and remembers the value only if
     * {@code remember} accepts it; a value that is not remembered also drops an older entry of the key.
     */
    public V load(K key, java.util.function.Predicate<V> remember) {
        long startEpoch = epoch.get();
        long startedAt = clock.getAsLong();
        V v = loader.apply(key);
        if (v == null) {
            throw new IllegalStateException("cache loader returned null for " + key);
        }
        if (remember.test(v)) {
            store(key, v, startedAt, startEpoch);
        } else {
            entries.remove(key);
        }
        return v;
    }

    /**
     * Remembers {@code value} as looked up at {@code loadedAtNanos} (the clock of this cache), unless an invalidation
     * happened since.
     */
    public void put(K key, V value, long loadedAtNanos) {
        store(key, value, loadedAtNanos, epoch.get());
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

    /** Whether an entry of the key is held, even one past its TTL (which never answers a read). */
    public boolean holds(K key) {
        return entries.containsKey(key);
    }

    /** Number of remembered keys (tests). */
    public int size() {
        return entries.size();
    }

    private void store(K key, V v, long loadedAt, long startEpoch) {
        if (entries.size() >= maxEntries && !entries.containsKey(key)) {
            evict();
        }
        // the entry's age counts from before the lookup: it never answers for longer than ttl after the database did
        entries.merge(key, new Entry<>(v, loadedAt, startEpoch),
                (old, neu) -> neu.loadedAtNanos() - old.loadedAtNanos() > 0 ? neu : old);
        if (epoch.get() != startEpoch) {
            // an invalidation ran while we were loading: what we read may predate it
            entries.computeIfPresent(key, (k, e) -> e.epoch() == startEpoch ? null : e);
        }
    }

    /** Makes room: expired entries go first, then (if that freed nothing) the eighth read longest ago. */
    private synchronized void evict() {
        if (entries.size() < maxEntries) {
            return; // another thread made room meanwhile
        }
        long now = clock.getAsLong();
        entries.entrySet().removeIf(e -> now - e.getValue().loadedAtNanos() >= ttlNanos);
        if (entries.size() < maxEntries) {
            return;
        }
        int drop = Math.max(1, maxEntries / 8);
        entries.entrySet().stream()
                .sorted(java.util.Comparator.comparingLong(e -> e.getValue().readAtNanos))
                .limit(drop).map(java.util.Map.Entry::getKey).toList()
                .forEach(entries::remove);
    }

    private void refreshInBackground(K key) {
        if (!reloading.add(key)) {
            return;
        }
        try {
            background.execute(() -> {
                try {
                    load(key, x -> true);
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
