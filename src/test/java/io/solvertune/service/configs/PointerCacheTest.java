package io.solvertune.service.configs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The alias-pointer cache: TTL bound, refresh-ahead, invalidation ordered against reads in flight, memory bounds. */
class PointerCacheTest {

    private static final long TTL = 1_000;

    /** A database stand-in: model reference → (model id, the config its `latest` alias points at); counts reads. */
    private static final class Db {
        final Map<String, long[]> rows = new HashMap<>();
        final AtomicInteger reads = new AtomicInteger();

        ModelPointers read(String ref) {
            reads.incrementAndGet();
            long[] r = rows.get(ref);
            if (r == null) {
                return ModelPointers.unknownModel();
            }
            return ModelPointers.of(r[0], List.of(new ModelPointers.AliasRow("latest", r[1], "dc", "unipc", 6, 1.0,
                    "logSNR")), List.of());
        }
    }

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final ArrayDeque<Runnable> background = new ArrayDeque<>();
    private final Db db = new Db();

    private PointerCache cache(int maxEntries, long maxBytes) {
        return new PointerCache(db::read, background::add, TTL, maxEntries, maxBytes, now::get);
    }

    private static long latest(ModelPointers p) {
        return p.alias("latest", null, null, null, null, null);
    }

    @Test
    void anEntryNeverAnswersForLongerThanTheTtlAfterItsReadStarted() {
        db.rows.put("m", new long[] {7, 100});
        PointerCache c = cache(10, 1 << 20);
        assertNull(c.peek("m"), "peek never reads");
        assertEquals(0, db.reads.get());
        assertEquals(100, latest(c.get("m")));
        db.rows.put("m", new long[] {7, 101}); // another process moves the alias; nobody tells this one
        now.addAndGet(TTL - 1);
        assertEquals(100, latest(c.peek("m")), "stale, but within the bound");
        now.addAndGet(1);
        assertNull(c.peek("m"), "at the TTL the entry is gone");
        assertEquals(101, latest(c.get("m")));
        assertEquals(2, db.reads.get());
    }

    @Test
    void theAgeCountsFromBeforeTheRead() {
        db.rows.put("m", new long[] {7, 100});
        PointerCache slowDb = new PointerCache(ref -> {
            ModelPointers p = db.read(ref);
            now.addAndGet(TTL / 4); // the read itself takes a quarter of the TTL
            return p;
        }, background::add, TTL, 10, 1 << 20, now::get);
        slowDb.get("m");
        now.addAndGet(TTL - TTL / 4);
        assertNull(slowDb.peek("m"));
    }

    @Test
    void anEntryInUseIsReadAgainInTheBackgroundBeforeItExpires() {
        db.rows.put("m", new long[] {7, 100});
        PointerCache c = cache(10, 1 << 20);
        c.get("m");
        now.addAndGet(TTL / 2 - 1);
        assertNotNull(c.peek("m"));
        assertTrue(background.isEmpty(), "young entries are not refreshed");
        now.addAndGet(1);
        db.rows.put("m", new long[] {7, 101});
        assertEquals(100, latest(c.peek("m")), "the old entry answers while the refresh runs");
        assertEquals(100, latest(c.peek("m")));
        assertEquals(1, background.size(), "one refresh per entry, however many lookups");
        background.poll().run();
        assertEquals(101, latest(c.peek("m")));
        now.addAndGet(TTL - 1);
        assertNotNull(c.peek("m"), "the refreshed entry counts its age from its own read");
        assertEquals(2, db.reads.get());
    }

    @Test
    void invalidationDropsEveryReferenceToTheModelAndNoOther() {
        db.rows.put("7", new long[] {7, 100});
        db.rows.put("gmm", new long[] {7, 100});
        db.rows.put("other", new long[] {8, 200});
        PointerCache c = cache(10, 1 << 20);
        c.get("7");
        c.get("gmm");
        c.get("other");
        c.invalidate(Set.of(7L));
        assertNull(c.peek("7"));
        assertNull(c.peek("gmm"));
        assertNotNull(c.peek("other"));
        assertEquals(1, c.size());
    }

    @Test
    void aReadThatStartedBeforeAnInvalidationDoesNotStoreItsResult() throws Exception {
        db.rows.put("m", new long[] {7, 100});
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        PointerCache c = new PointerCache(ref -> {
            ModelPointers p = db.read(ref); // reads the old row...
            reading.countDown();
            try {
                assertTrue(release.await(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return p;
        }, background::add, TTL, 10, 1 << 20, now::get);
        CompletableFuture<ModelPointers> read = CompletableFuture.supplyAsync(() -> c.get("m"));
        assertTrue(reading.await(10, TimeUnit.SECONDS));
        db.rows.put("m", new long[] {7, 101}); // ...a publish commits and invalidates while it is in flight
        c.invalidate(Set.of(7L));
        release.countDown();
        assertEquals(100, latest(read.get(10, TimeUnit.SECONDS)), "the caller gets what it read");
        assertNull(c.peek("m"), "but the possibly stale result is not kept");
        assertEquals(0, c.size());
    }

    @Test
    void aBackgroundRefreshInFlightDuringAnInvalidationIsDiscardedToo() {
        db.rows.put("m", new long[] {7, 100});
        Runnable[] duringRead = {() -> { }};
        List<Runnable> held = new ArrayList<>();
        PointerCache c = new PointerCache(ref -> {
            ModelPointers p = db.read(ref);
            duringRead[0].run();
            return p;
        }, held::add, TTL, 10, 1 << 20, now::get);
        c.get("m");
        now.addAndGet(TTL / 2);
        assertNotNull(c.peek("m")); // schedules a refresh
        assertEquals(1, held.size());
        // the refresh reads the old row; a publish commits and invalidates before the refresh stores it
        duringRead[0] = () -> {
            db.rows.put("m", new long[] {7, 101});
            c.invalidate(Set.of(7L));
        };
        held.get(0).run();
        assertNull(c.peek("m"), "neither the invalidated entry nor the refresh's stale read answers");
        duringRead[0] = () -> { };
        assertEquals(101, latest(c.get("m")));
    }

    @Test
    void entriesAreBoundedByCount() {
        PointerCache c = cache(3, 1 << 20);
        for (int i = 1; i <= 10; i++) {
            db.rows.put("m" + i, new long[] {i, 100 + i});
            c.get("m" + i);
            assertTrue(c.size() <= 3, "size " + c.size());
        }
        assertNotNull(c.peek("m10"), "the newest entry is kept");
        assertEquals(3, c.size());
    }

    @Test
    void entriesAreBoundedByBytesAndAnOversizedSnapshotIsNotAnswered() {
        for (int i = 10; i < 30; i++) {
            db.rows.put("m" + i, new long[] {i, 100 + i});
        }
        long one = PointerCache.ENTRY_BYTES + 2 * 3 + db.read("m10").bytes(); // "m10"..."m29": three characters each
        PointerCache c = cache(100, 8 * one);
        for (int i = 10; i < 30; i++) {
            c.get("m" + i);
            assertTrue(c.bytes() <= 8 * one, "bytes " + c.bytes());
            assertTrue(c.peek("m" + i).complete(), "a snapshot of an eighth of the budget is kept whole");
        }
        assertEquals(8, c.size());
        assertEquals(8 * one, c.bytes());
        c.clear();
        assertEquals(0, c.bytes());
        assertEquals(0, c.size());

        // a model whose pointers would take more than a quarter of the budget is remembered as "too large"
        List<ModelPointers.AliasRow> many = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            many.add(new ModelPointers.AliasRow("latest", 1000 + i, "dc", "unipc", i + 1, 1.0, "logSNR"));
        }
        PointerCache small = new PointerCache(ref -> ModelPointers.of(9, many, List.of()), Runnable::run, TTL, 100,
                4 * one, now::get);
        ModelPointers p = small.get("big");
        assertFalse(p.complete());
        assertEquals(9, p.modelId());
        assertEquals(ModelPointers.NONE, p.alias("latest", null, null, 3, null, null));
        assertSame(p, small.peek("big"), "remembered, so the resource path does not read it per request");
    }

    @Test
    void concurrentLookupsStoresAndInvalidationsKeepTheBounds() throws Exception {
        for (int i = 0; i < 40; i++) {
            db.rows.put("m" + i, new long[] {i + 1, 100 + i});
        }
        long one = PointerCache.ENTRY_BYTES + 2 * 3 + db.read("m10").bytes();
        PointerCache c = new PointerCache(db::read, Runnable::run, TTL, 16, 10 * one, now::get);
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            all.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 2_000; i++) {
                    String key = "m" + ((i * 7 + seed * 13) % 40);
                    if (i % 97 == 0) {
                        c.invalidate(Set.of((long) (i % 40) + 1));
                    } else if (c.peek(key) == null) {
                        c.get(key);
                    }
                    assertTrue(c.bytes() <= 10 * one && c.size() <= 16, c.size() + " entries, " + c.bytes());
                }
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        c.clear();
        assertEquals(0, c.size());
        assertEquals(0, c.bytes(), "the byte count returns to zero: no entry was counted twice or lost");
    }
}
