package io.solvertune.service.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
    void boundedSize() {
        var c = cache(3);
        for (int i = 0; i < 3; i++) {
            c.get("k" + i);
        }
        assertEquals(3, c.size());
        c.get("k3");
        assertEquals(1, c.size(), "a full cache starts over rather than growing");
        c.get("k3");
        assertEquals(1, c.size());
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
