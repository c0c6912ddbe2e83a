package io.switchboard.gateway.edge;

import java.util.Optional;

import io.helidon.common.concurrency.limits.FixedLimit;
import io.helidon.common.concurrency.limits.LimitAlgorithm;

/**
 * Load shedding at the edge, with Helidon's fixed concurrency limits and no queue: at most {@code in-flight}
 * requests are served at once, and of them at most {@code rate-limited-in-flight} on the rate-limited routes (login,
 * CPU-heavy behind the gateway), so that a flood there cannot take the permits the reads need. A request beyond a
 * limit is answered at once (503 with {@code Retry-After}) instead of waiting in a queue that grows without end.
 * Thread safe.
 */
final class Admission {
    private final LimitAlgorithm all;
    private final LimitAlgorithm rateLimited;
    private final int inFlight;
    private final int rateLimitedInFlight;

    /**
     * Limits.
     *
     * @param inFlight            requests served at once, at least 1
     * @param rateLimitedInFlight requests on rate-limited routes served at once, at least 1
     */
    Admission(int inFlight, int rateLimitedInFlight) {
        if (inFlight < 1 || rateLimitedInFlight < 1) {
            throw new IllegalArgumentException("gateway.limits.in-flight and gateway.limits.rate-limited-in-flight must "
                                               + "be at least 1, got " + inFlight + " and " + rateLimitedInFlight);
        }
        this.inFlight = inFlight;
        this.rateLimitedInFlight = rateLimitedInFlight;
        all = FixedLimit.create(limit -> limit.permits(inFlight).queueLength(0).name("gateway-in-flight"));
        rateLimited = FixedLimit.create(limit -> limit.permits(rateLimitedInFlight).queueLength(0)
                .name("gateway-rate-limited-in-flight"));
    }

    /**
     * A permit for one request, to be given back when it is answered.
     *
     * @return the permit, empty when the gateway serves as many as it may
     */
    Optional<LimitAlgorithm.Token> request() {
        return all.tryAcquire(false);
    }

    /**
     * A permit for one request on a rate-limited route, besides its request permit.
     *
     * @return the permit, empty when that route's share is taken
     */
    Optional<LimitAlgorithm.Token> rateLimitedRequest() {
        return rateLimited.tryAcquire(false);
    }

    @Override
    public String toString() {
        return "at most " + inFlight + " requests in flight, " + rateLimitedInFlight + " on rate-limited routes";
    }
}
