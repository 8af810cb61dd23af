package io.solvertune.tuning.fit.timesteps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.solvertune.numerics.schedule.NoiseSchedule;
import io.solvertune.numerics.schedule.TimestepSpacing;
import io.solvertune.numerics.schedule.VpLinearSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CMA-ES with a journal: an optimisation killed after any evaluation (even in the middle of writing a journal line)
 * and run again continues from the recorded losses without computing them, and returns exactly the uninterrupted
 * result; a journal of another optimisation is not replayed.
 */
class FileJournalTest {
    static final NoiseSchedule VP = new VpLinearSchedule(0.1, 20.0);
    static final GridParameterisation P = new GridParameterisation(VP, 1.0, 1e-3, 6);
    static final TimestepOptimizer.Settings S = new TimestepOptimizer.Settings(60, 0.3, 0, 5);

    @TempDir
    Path dir;

    /** A smooth loss with its minimum at a planted grid (in lambda), counting its calls. */
    static ToDoubleFunction<double[]> loss(AtomicInteger calls, int killAfter) {
        double[] planted = new TimestepSpacing.TimeQuadratic().times(VP, 1.0, 1e-3, 6);
        return g -> {
            if (calls.incrementAndGet() > killAfter) {
                throw new CancellationException("killed");
            }
            double s = 0;
            for (int i = 1; i < g.length - 1; i++) {
                double d = VP.lambda(g[i]) - VP.lambda(planted[i]);
                s += d * d + 0.1 * Math.sin(3 * d) * Math.sin(3 * d);
            }
            return s;
        };
    }

    static List<double[]> starts() {
        return List.of(new TimestepSpacing.LogSnr().times(VP, 1.0, 1e-3, 6),
                new TimestepSpacing.TimeUniform().times(VP, 1.0, 1e-3, 6));
    }

    @Test
    void aKilledOptimisationContinuesToTheSameResult() throws Exception {
        AtomicInteger plain = new AtomicInteger();
        TimestepOptimizer.Result want = TimestepOptimizer.optimize(P, loss(plain, Integer.MAX_VALUE), starts(), S);
        assertEquals(60, want.evaluations());
        assertTrue(want.improved());
        assertTrue(!want.generations().isEmpty() && want.generations().get(0).evaluation() > 2);

        for (int kill : new int[] {1, 2, 23, 59}) {
            Path f = dir.resolve("journal-" + kill + ".txt");
            AtomicInteger first = new AtomicInteger();
            assertThrows(CancellationException.class, () -> TimestepOptimizer.optimize(P, loss(first, kill),
                    starts(), S, FileJournal.open(f)));
            assertEquals(kill, Files.readAllLines(f).size(), "one line per finished evaluation");
            if (kill > 2) {
                // killed while writing the next line: a torn line is dropped
                Files.writeString(f, Files.readString(f) + kill + " 12ab");
            }
            AtomicInteger second = new AtomicInteger();
            FileJournal j = FileJournal.open(f);
            assertEquals(kill, j.size());
            TimestepOptimizer.Result got = TimestepOptimizer.optimize(P, loss(second, Integer.MAX_VALUE), starts(), S,
                    j);
            assertEquals(plain.get() - kill, second.get(), "the recorded evaluations are not computed again");
            assertEquals(kill, got.replayed());
            assertArrayEquals(want.grid(), got.grid(), "kill after " + kill);
            assertEquals(want.loss(), got.loss());
            assertEquals(want.trace(), got.trace());
            assertEquals(want.generations(), got.generations());
            assertArrayEquals(want.startLosses(), got.startLosses());
            assertEquals(want.evaluations(), got.evaluations());
            assertEquals(plain.get(), Files.readAllLines(f).size());
        }
    }

    @Test
    void anotherOptimisationsJournalIsNotReplayed() throws Exception {
        Path f = dir.resolve("journal.txt");
        TimestepOptimizer.optimize(P, loss(new AtomicInteger(), Integer.MAX_VALUE), starts(), S, FileJournal.open(f));
        // other starts: the first grid differs, nothing is replayed and the journal is rewritten
        List<double[]> other = List.of(new TimestepSpacing.TimeQuadratic().times(VP, 1.0, 1e-3, 6));
        AtomicInteger calls = new AtomicInteger();
        TimestepOptimizer.Result r = TimestepOptimizer.optimize(P, loss(calls, Integer.MAX_VALUE), other, S,
                FileJournal.open(f));
        assertEquals(0, r.replayed());
        assertEquals(calls.get(), Files.readAllLines(f).size());
        FileJournal j = FileJournal.open(f);
        assertNull(j.recorded(0, starts().get(0)), "a grid other than the recorded one is not answered");
        assertEquals(0, j.size(), "and the journal from there on is dropped");
    }
}
