package io.solvertune.service.security;

import java.util.function.LongSupplier;

/** A token-bucket rate limit: {@code perSecond} permits per second on average, at most {@code burst} at once. */
final class TokenBucket {

    private final double perSecond;
    private final double burst;
    private final LongSupplier clock;
    private double available;
    private long lastNanos;

    TokenBucket(double perSecond, double burst, LongSupplier clock) {
        if (!(perSecond > 0) || !(burst >= 1)) {
            throw new IllegalArgumentException("perSecond must be > 0 and burst >= 1");
        }
        this.perSecond = perSecond;
        this.burst = burst;
        this.clock = clock;
        this.available = burst;
        this.lastNanos = clock.getAsLong();
    }

    /** Takes one permit if there is one. */
    synchronized boolean tryAcquire() {
        long now = clock.getAsLong();
        available = Math.min(burst, available + (now - lastNanos) * perSecond / 1e9);
        lastNanos = now;
        if (available >= 1) {
            available -= 1;
            return true;
        }
        return false;
    }

    double perSecond() {
        return perSecond;
    }
}
