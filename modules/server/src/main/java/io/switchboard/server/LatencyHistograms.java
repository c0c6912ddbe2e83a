package io.switchboard.server;

import java.time.Duration;
import java.util.stream.DoubleStream;

import io.helidon.metrics.api.Timer;

/**
 * Latency as Prometheus histograms with fixed buckets, from a quarter of a millisecond to ten seconds, and no
 * client-side quantiles: Helidon's timers publish quantile samples by default, which are not histogram samples
 * ({@code promtool check metrics} rejects them) and cannot be aggregated across instances anyway.
 */
public final class LatencyHistograms {
    private static final Duration[] BUCKETS = DoubleStream.of(0.25, 0.5, 1, 2, 3, 5, 10, 25, 50, 100, 250, 500, 1_000,
                                                              2_500, 5_000, 10_000)
            .mapToObj(millis -> Duration.ofNanos((long) (millis * 1_000_000)))
            .toArray(Duration[]::new);

    private LatencyHistograms() {
    }

    /**
     * A timer builder for a latency histogram.
     *
     * @param name        meter name (dots; Prometheus gets {@code _seconds})
     * @param description what it measures
     * @return the builder, to add tags to
     */
    public static Timer.Builder timer(String name, String description) {
        return Timer.builder(name)
                .description(description)
                .percentiles(new double[0])
                .buckets(BUCKETS);
    }
}
