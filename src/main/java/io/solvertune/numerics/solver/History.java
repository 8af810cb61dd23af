package io.solvertune.numerics.solver;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * The model-output history a multistep solver reads: the newest {@code capacity} pairs (time, output), owned by
 * the run's manager; evicted outputs are closed. Index 0 is the newest.
 */
public final class History {
    /** One remembered model output. */
    public record Entry(double t, NDArray value) {
    }

    private final int capacity;
    private final NDManager owner;
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private final java.util.List<NDArray> pending = new java.util.ArrayList<>(2);
    private final java.util.List<NDArray> retired = new java.util.ArrayList<>(1);

    public History(int capacity, NDManager owner) {
        this.capacity = capacity;
        this.owner = owner;
    }

    public int size() {
        return entries.size();
    }

    public int capacity() {
        return capacity;
    }

    /** The {@code k}-th newest entry (0 = newest). */
    public Entry get(int k) {
        if (k < 0 || k >= entries.size()) {
            throw new IndexOutOfBoundsException("history has " + entries.size() + " entries, asked for " + k);
        }
        Iterator<Entry> it = entries.iterator();
        for (int i = 0; i < k; i++) {
            it.next();
        }
        return it.next();
    }

    /** Newest entry, or {@code null}. */
    public Entry newest() {
        return entries.peekFirst();
    }

    /**
     * Adds an output, visible at once as the newest entry. It is moved to the run's manager, and entries beyond
     * the capacity are evicted and closed, when the step {@link #commit commits}.
     */
    public void add(double t, NDArray value) {
        entries.addFirst(new Entry(t, value));
        pending.add(value);
    }

    /**
     * Replaces the newest entry's output (same time), e.g. by DC-Solver's compensated value. The new value is kept
     * like an added one; the old one is closed when the step commits (or with the step's scope if it was added in
     * this step).
     */
    public void replaceNewest(NDArray value) {
        Entry old = entries.removeFirst();
        entries.addFirst(new Entry(old.t(), value));
        if (!pending.removeIf(v -> v == old.value())) {
            retired.add(old.value());
        }
        pending.add(value);
    }

    /**
     * A scratch copy sharing this history's outputs, for a trial step that must leave this history as it is. It is
     * never committed: what a trial adds lives and dies in the trial's scope, and nothing of this history is closed.
     */
    public History fork() {
        History f = new History(capacity, null);
        f.entries.addAll(entries);
        return f;
    }

    /**
     * A deep copy owned by {@code newOwner}: every output is duplicated, so the copy and this history can go on
     * independently (a committed history only; a step in progress has pending outputs).
     */
    public History copy(NDManager newOwner) {
        if (!pending.isEmpty() || !retired.isEmpty()) {
            throw new IllegalStateException("history: cannot copy in the middle of a step");
        }
        History h = new History(capacity, newOwner);
        for (Entry e : entries) {
            NDArray v = e.value().duplicate();
            v.attach(newOwner);
            h.entries.addLast(new Entry(e.t(), v));
        }
        return h;
    }

    public void commit() {
        for (NDArray v : pending) {
            v.attach(owner);
        }
        pending.clear();
        for (NDArray v : retired) {
            v.close();
        }
        retired.clear();
        while (entries.size() > capacity) {
            entries.removeLast().value().close();
        }
    }

    public void tempAttach(NDManager scope) {
        for (Entry e : entries) {
            e.value().tempAttach(scope);
        }
    }
}
