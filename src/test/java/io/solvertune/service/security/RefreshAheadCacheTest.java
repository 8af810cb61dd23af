package io.solvertune.service.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RefreshAheadCacheTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final ArrayDeque<Runnable> queued = new ArrayDeque<>();
    private final Map<String, String> db = new HashMap<>();
    private final AtomicInteger loads = new AtomicInteger();

    private RefreshAheadCache<String, String> cache(int max) {
        return new RefreshAheadCache<>(k -> {
            loads.incrementAndGet();
            return db.getOrDefault(k, "none");
        }, queued::add, 100, max, now::get);
    }

    @Test
    void answersWithinTheTtlAndNeverAfter() {
        var c = cache(10);
        db.put("a", "v1");
        assertNull(c.peek("a"), "nothing loaded yet: peek never loads");
        assertEquals("v1", c.get("a"));
        db.put("a", "v2");
        now.addAndGet(49);
        assertEquals("v1", c.peek("a"));
        assertEquals(0, queued.size(), "young entries do not refresh");
        now.addAndGet(51); // age 100 = ttl
        assertNull(c.peek("a"), "an expired entry never answers");
        assertEquals("v2", c.get("a"), "and get loads it on the caller's thread");
        assertEquals(2, loads.get());
    }

    @Test
    void readsPastHalfTheTtlRefreshOnceInTheBackground() {
        var c = cache(10);
        db.put("a", "v1");
        c.get("a");
        db.put("a", "v2");
        now.addAndGet(60);
        assertEquals("v1", c.peek("a"));
        assertEquals("v1", c.peek("a"));
        assertEquals(1, queued.size(), "one refresh per key in flight");
        now.addAndGet(10);
        queued.poll().run();
        assertEquals("v2", c.peek("a"));
        // the refreshed entry's age counts from when its lookup started (t = 1070): it expires at 1170
        now.set(1_169);
        assertEquals("v2", c.peek("a"));
        now.set(1_170);
        assertNull(c.peek("a"));
    }

    @Test
    void aReloadThatRacedAnInvalidationDoesNotStoreItsResult() {
        AtomicInteger revokeDuringLoad = new AtomicInteger();
        @SuppressWarnings("unchecked")
        RefreshAheadCache<String, String>[] self = new RefreshAheadCache[1];
        self[0] = new RefreshAheadCache<>(k -> {
            String v = db.getOrDefault(k, "none"); // read before the revocation commits ...
            if (revokeDuringLoad.getAndSet(0) == 1) {
                db.put(k, "revoked");
                self[0].invalidate(k); // ... which then commits and invalidates while this lookup is in flight
            }
            return v;
        }, queued::add, 100, 10, now::get);
        var c = self[0];
        db.put("tok", "alice");
        c.get("tok");
        now.addAndGet(60);
        revokeDuringLoad.set(1);
        assertEquals("alice", c.peek("tok"));
        queued.poll().run();
        assertNull(c.peek("tok"), "the stale read is not remembered past the invalidation");
        assertEquals("revoked", c.get("tok"), "the next lookup reads the revocation");
        assertEquals("revoked", c.peek("tok"), "a lookup that started after the invalidation is remembered");
    }

    @Test
    void failedRefreshesKeepTheEntryUntilItsTtl() {
        AtomicInteger calls = new AtomicInteger();
        var c = new RefreshAheadCache<String, String>(k -> {
            if (calls.incrementAndGet() > 1) {
                throw new IllegalStateException("database down");
            }
            return "v";
        }, queued::add, 100, 10, now::get);
        c.get("a");
        now.addAndGet(70);
        assertEquals("v", c.peek("a"));
        queued.poll().run(); // fails quietly
        assertEquals("v", c.peek("a"));
        now.addAndGet(30);
        assertNull(c.peek("a"));
        assertThrows(IllegalStateException.class, () -> c.get("a"), "the request path reports the failure");
    }

    @Test
    void aFullCacheDropsTheEntriesReadLongestAgoNotEverything() {
        var c = cache(8);
        for (int i = 0; i < 8; i++) {
            c.get("k" + i);
            now.addAndGet(1);
        }
        assertEquals(8, c.size());
        c.get("k8");
        assertEquals(8, c.size(), "one eighth (k0) made room for k8");
        assertNull(c.peek("k0"), "the entry read longest ago went");
        for (int i = 1; i <= 8; i++) {
            now.addAndGet(1);
            assertEquals("none", c.peek("k" + i), "k" + i + " is still remembered");
        }
        now.addAndGet(1);
        c.peek("k1"); // read most recently: k2 is now the least recently read
        now.addAndGet(1);
        c.get("k9");
        assertEquals("none", c.peek("k1"));
        assertNull(c.peek("k2"));
        // expired entries go first
        now.addAndGet(100);
        c.get("hot");
        assertEquals(1, c.size(), "every other entry had expired");
    }

    @Test
    void aBurstOfNewKeysDoesNotFlushAKeyInUse() {
        var c = cache(100);
        db.put("valid", "alice");
        c.get("valid");
        for (int i = 0; i < 10_000; i++) {
            now.addAndGet(1);
            c.get("random-" + i);
            if (i % 20 == 0) {
                assertEquals("alice", c.peek("valid"), "after " + i + " new keys");
                // the key in use is renewed ahead of its TTL, which keeps it the youngest
                while (!queued.isEmpty()) {
                    queued.poll().run();
                }
            }
        }
        assertEquals("alice", c.peek("valid"));
        assertTrue(c.size() <= 100);
    }

    @Test
    void loadRemembersOnlyWhatThePredicateKeeps() {
        var c = cache(10);
        db.put("a", "valid");
        assertEquals("none", c.load("b", v -> !v.equals("none")));
        assertNull(c.peek("b"), "not remembered");
        assertEquals("valid", c.load("a", v -> !v.equals("none")));
        assertEquals("valid", c.peek("a"));
        db.put("a", "none");
        assertEquals("none", c.load("a", v -> !v.equals("none")));
        assertNull(c.peek("a"), "a value that is not kept also drops the older entry");
    }

    @Test
    void rejectedRefreshesAreRetriedByTheNextRead() {
        AtomicInteger attempts = new AtomicInteger();
        var c = new RefreshAheadCache<String, String>(k -> "v", r -> {
            if (attempts.incrementAndGet() == 1) {
                throw new java.util.concurrent.RejectedExecutionException("full");
            }
            queued.add(r);
        }, 100, 10, now::get);
        c.get("a");
        now.addAndGet(60);
        c.peek("a");
        c.peek("a");
        assertEquals(2, attempts.get());
        assertEquals(1, queued.size());
    }
}
