package io.switchboard.registry.impl;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter and no cap on the number of attempts: a crowd of clients retrying after the
 * same outage spreads out instead of arriving together. Each delay is drawn from [d/2, d] where d doubles from
 * {@code initial} up to {@code max}. Not thread safe: one per retry loop.
 */
final class Backoff {
    private final long initialMillis;
    private final long maxMillis;
    private long currentMillis;

    /**
     * A backoff between the given bounds.
     *
     * @param initial first delay ceiling
     * @param max     largest delay ceiling
     */
    Backoff(Duration initial, Duration max) {
        this.initialMillis = Math.max(1, initial.toMillis());
        this.maxMillis = Math.max(initialMillis, max.toMillis());
        this.currentMillis = initialMillis;
    }

    /**
     * The next delay, and doubles the ceiling for the one after.
     *
     * @return milliseconds to wait
     */
    long nextMillis() {
        long ceiling = currentMillis;
        currentMillis = Math.min(currentMillis * 2, maxMillis);
        return jitter(ceiling);
    }

    /**
     * Starts again from the initial delay after a success.
     */
    void reset() {
        currentMillis = initialMillis;
    }

    /**
     * A delay drawn from [millis/2, millis].
     *
     * @param millis ceiling
     * @return jittered delay
     */
    static long jitter(long millis) {
        return millis / 2 + ThreadLocalRandom.current().nextLong(millis / 2 + 1);
    }
}
