package io.switchboard.gateway.edge;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per client address for rate-limited routes (login): {@code capacity} calls at once, refilled at
 * {@code perSecond}. Memory is bounded: full, idle buckets are dropped when many addresses are tracked. Thread safe.
 */
final class ClientRateLimiter {
    private static final int MAX_TRACKED = 100_000;

    private final double capacity;
    private final double perNano;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    ClientRateLimiter(int capacity, double perSecond) {
        this.capacity = capacity;
        this.perNano = perSecond / 1e9;
    }

    /**
     * Takes a token for a client.
     *
     * @param client client address
     * @return zero when allowed, else how long until a token is available
     */
    Duration acquire(String client) {
        long now = System.nanoTime();
        if (buckets.size() > MAX_TRACKED) {
            buckets.values().removeIf(b -> b.level(now) >= capacity);
        }
        Bucket bucket = buckets.computeIfAbsent(client, c -> new Bucket(capacity, now));
        synchronized (bucket) {
            double level = bucket.level(now);
            if (level >= 1) {
                bucket.tokens = level - 1;
                bucket.at = now;
                return Duration.ZERO;
            }
            return Duration.ofNanos((long) Math.ceil((1 - level) / perNano));
        }
    }

    private final class Bucket {
        private double tokens;
        private long at;

        private Bucket(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }

        private double level(long now) {
            return Math.min(capacity, tokens + (now - at) * perNano);
        }
    }
}
