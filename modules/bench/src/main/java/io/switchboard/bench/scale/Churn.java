package io.switchboard.bench.scale;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.grpc.StatusRuntimeException;
import io.switchboard.api.hub.v1.DeregisterRequest;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.RegisterRequest;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Registrations and deregistrations at a steady rate through the hub's own API, and the time from each Register
 * call returning until every subscriber of that service holds the new instance. Thread safe.
 */
final class Churn implements AutoCloseable {
    private static final String PREFIX = "churn-";

    final Histogram propagation = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(60), 3);
    final AtomicLong errors = new AtomicLong();
    final AtomicLong registrationsSent = new AtomicLong();
    final AtomicLong registered = new AtomicLong();
    final AtomicLong deregistrationsSent = new AtomicLong();
    final AtomicLong deregistered = new AtomicLong();
    private final AtomicLong inFlight = new AtomicLong();
    private final List<HubGrpc.HubBlockingStub> hubs;
    private final int services;
    private final int perSecond;
    private final int ttlSeconds;
    private final Map<String, List<Subscriber>> subscribers;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final ArrayDeque<Long> live = new ArrayDeque<>();
    private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
    private long next;

    Churn(List<HubGrpc.HubBlockingStub> hubs, int services, int perSecond, int ttlSeconds,
          Map<String, List<Subscriber>> subscribers) {
        this.hubs = hubs;
        this.services = services;
        this.perSecond = perSecond;
        this.ttlSeconds = ttlSeconds;
        this.subscribers = subscribers;
    }

    static boolean isChurned(String id) {
        return id.startsWith(PREFIX);
    }

    /**
     * Registers one and deregisters one instance {@code perSecond} times a second, for the given time.
     */
    void run(Duration duration) {
        long interval = 1_000_000_000L / perSecond;
        long start = System.nanoTime();
        for (long tick = 0; System.nanoTime() - start < duration.toNanos(); tick++) {
            long due = start + tick * interval;
            Scenario.pause(Math.max(0, (due - System.nanoTime()) / 1_000_000));
            long n = next++;
            registrationsSent.incrementAndGet();
            call(() -> register(n));
            Long old;
            synchronized (live) {
                old = live.size() >= perSecond ? live.poll() : null;
            }
            if (old != null) {
                deregistrationsSent.incrementAndGet();
                call(() -> deregister(old));
            }
        }
    }

    /** Calls sent and not answered yet. */
    long inFlight() {
        return inFlight.get();
    }

    private void call(Runnable call) {
        inFlight.incrementAndGet();
        calls.execute(() -> {
            try {
                call.run();
            } finally {
                inFlight.decrementAndGet();
            }
        });
    }

    /** Deregisters every churned instance still registered. */
    void clear() {
        List<Long> leases;
        synchronized (live) {
            leases = List.copyOf(live);
            live.clear();
        }
        leases.forEach(this::deregister);
    }

    /** Changes registered whose propagation was never seen by every subscriber. */
    long unseen() {
        return pending.values().stream().filter(p -> p.registeredNanos != 0).count();
    }

    void seen(String id, Subscriber subscriber, long nanos) {
        Pending p = pending.get(id);
        if (p != null) {
            p.seen(subscriber, nanos);
        }
    }

    @Override
    public void close() {
        calls.shutdownNow();
    }

    private void register(long n) {
        String service = Scenario.serviceName((int) (n % services));
        String id = PREFIX + n;
        List<Subscriber> watching = subscribers.getOrDefault(service, List.of());
        Pending p = watching.isEmpty() ? null : new Pending(id, watching);
        if (p != null) {
            pending.put(id, p);
        }
        try {
            long lease = hubs.get((int) (n % hubs.size())).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .register(RegisterRequest.newBuilder()
                                      .setInstance(Instance.newBuilder().setService(service).setId(id)
                                                           .setHost("10.200." + (n / 250 % 250) + "." + (n % 250 + 1))
                                                           .setPort(20000 + (int) (n % 10000)).build())
                                      .setTtlSeconds(ttlSeconds).build())
                    .getLeaseId();
            synchronized (live) {
                live.add(lease);
            }
            registered.incrementAndGet();
            if (p != null) {
                p.registered(System.nanoTime());
            }
        } catch (StatusRuntimeException e) {
            errors.incrementAndGet();
            pending.remove(id);
        }
    }

    private void deregister(long lease) {
        try {
            hubs.get((int) (lease % hubs.size())).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .deregister(DeregisterRequest.newBuilder().setLeaseId(lease).build());
            deregistered.incrementAndGet();
        } catch (StatusRuntimeException e) {
            errors.incrementAndGet();
        }
    }

    private final class Pending {
        private final String id;
        private final Set<Subscriber> waiting;
        private long registeredNanos;
        private long lastSeenNanos;

        private Pending(String id, List<Subscriber> watching) {
            this.id = id;
            this.waiting = new HashSet<>(watching);
        }

        synchronized void registered(long nanos) {
            registeredNanos = nanos;
            complete();
        }

        synchronized void seen(Subscriber subscriber, long nanos) {
            if (waiting.remove(subscriber)) {
                lastSeenNanos = Math.max(lastSeenNanos, nanos);
                complete();
            }
        }

        private void complete() {
            if (registeredNanos != 0 && waiting.isEmpty()) {
                // a watch event may overtake the Register response: that counts as no delay
                propagation.recordValue(Math.max(0, (lastSeenNanos - registeredNanos) / 1000));
                pending.remove(id);
            }
        }
    }
}
