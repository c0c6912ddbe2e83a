package io.switchboard.hub.ui;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

import io.switchboard.hub.etcd.EtcdStore;
import io.switchboard.hub.etcd.EtcdStore.LeaseTtl;

/**
 * The TTL and renewal age of every lease on the dashboard, read from etcd and cached for about a second.
 * <p>
 * etcd is asked, not this replica's memory: a lease may be renewed through any hub replica. However many
 * browsers and API calls ask, etcd sees one round of reads at a time (at most {@value #MAX_IN_FLIGHT} reads
 * outstanding, bounded by {@value #ROUND_TIMEOUT_MILLIS} ms in all), and none at all while the probe says etcd is
 * unreachable. Rounds are a second apart, longer for large registries ({@value #MILLIS_PER_LEASE} ms per lease:
 * 1,000 leases every 2 s, 10,000 every 20 s), so that an open dashboard costs etcd and the hub at most about
 * {@code 1000 / MILLIS_PER_LEASE} lease reads per second. Thread safe.
 */
final class LeaseClock {
    private static final Duration MIN_AGE = Duration.ofSeconds(1);
    private static final long MILLIS_PER_LEASE = 2;
    private static final int MAX_IN_FLIGHT = 32;
    private static final long ROUND_TIMEOUT_MILLIS = 2000;

    private final EtcdStore store;
    private final BooleanSupplier etcdUp;
    private Readings latest = Readings.NONE;
    private CompletableFuture<Readings> running;

    LeaseClock(EtcdStore store, BooleanSupplier etcdUp) {
        this.store = store;
        this.etcdUp = etcdUp;
    }

    /**
     * Readings of the given leases no older than about a second (more for large registries, see above) when etcd
     * answers in time; otherwise the last ones read. A lease missing from the result has not been read yet (it just registered, or etcd is away).
     *
     * @param leases lease ids on the dashboard
     * @param wait   how long the caller may wait for a fresh round; zero never blocks
     * @return the readings
     */
    Readings read(Collection<Long> leases, Duration wait) {
        if (!etcdUp.getAsBoolean()) {
            // what etcd said before it went away would be shown as current: better to say we do not know
            return Readings.NONE;
        }
        CompletableFuture<Readings> round;
        synchronized (this) {
            Duration maxAge = Duration.ofMillis(Math.max(MIN_AGE.toMillis(), leases.size() * MILLIS_PER_LEASE));
            if (Duration.between(latest.readAt(), Instant.now()).compareTo(maxAge) < 0) {
                return latest;
            }
            round = running;
            if (round == null) {
                CompletableFuture<Readings> started = new CompletableFuture<>();
                running = started;
                round = started;
                // may complete (and clear running) at once: only the local variable is sure to hold it
                started.thenAccept(this::finished);
                Thread.ofVirtual().name("lease-clock").start(() -> started.complete(measure(leases)));
            }
        }
        if (wait.isZero()) {
            return current();
        }
        try {
            return round.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return current();
        } catch (ExecutionException | TimeoutException e) {
            return current();
        }
    }

    private Readings measure(Collection<Long> leases) {
        Instant at = Instant.now();
        return new Readings(store.timeToLive(leases, MAX_IN_FLIGHT, ROUND_TIMEOUT_MILLIS), at);
    }

    private synchronized void finished(Readings readings) {
        latest = readings;
        running = null;
    }

    private synchronized Readings current() {
        return latest;
    }

    /**
     * One round of reads.
     *
     * @param ttls   TTLs by lease id
     * @param readAt when the round started
     */
    record Readings(Map<Long, LeaseTtl> ttls, Instant readAt) {
        static final Readings NONE = new Readings(Map.of(), Instant.EPOCH);
    }
}
