package io.switchboard.registry.impl;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import io.grpc.StatusRuntimeException;
import io.switchboard.api.hub.v1.KeepAliveRequest;
import io.switchboard.api.hub.v1.KeepAliveResponse;
import io.switchboard.api.hub.v1.LeaseStatus;
import io.switchboard.server.Backoff;

/**
 * Renews the leases of every registration of one client in batched {@code KeepAlive} calls, and reports each
 * outcome: one scheduler thread collects the leases that are due (or nearly due) and sends them together, at most
 * {@value #MAX_BATCH} per call. A process with many registrations therefore costs the hub a few calls per renewal
 * interval, not one per lease.
 * <p>
 * Each lease keeps its own schedule: renewed about every TTL/3, its first renewal at a random point of the second
 * half of the first interval (a fleet started together spreads out), and after a failed call retried with its own
 * jittered exponential backoff. Outcomes go to the lease's {@link Listener}; deciding that a lease is lost for lack
 * of renewal stays with the listener. Thread safe.
 */
public final class LeaseRenewals implements AutoCloseable {
    /** Most lease ids the hub takes in one KeepAlive call. */
    static final int MAX_BATCH = 1000;

    private static final System.Logger LOG = System.getLogger(LeaseRenewals.class.getName());
    private static final Duration CALL_DEADLINE = Duration.ofSeconds(3);

    private final HubConnection hub;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final PriorityQueue<Entry> queue = new PriorityQueue<>(Comparator.comparingLong(e -> e.dueNanos));
    private final Map<Listener, Entry> entries = new HashMap<>();
    private final Thread scheduler;
    private volatile boolean closed;
    /** Whether renewals fail now; batches are sent concurrently, so each change of state is logged once. */
    private final AtomicBoolean failing = new AtomicBoolean();

    /**
     * Renewals over a hub connection; starts the scheduler thread.
     *
     * @param hub the connection the KeepAlive calls go through
     */
    public LeaseRenewals(HubConnection hub) {
        this.hub = hub;
        this.scheduler = Thread.ofVirtual().name("lease-renewer").start(this::run);
    }

    /**
     * Starts renewing a lease just granted; replaces any earlier schedule of the same listener.
     *
     * @param listener  told of every outcome
     * @param leaseId   lease to renew
     * @param ttl       its TTL
     * @param sentNanos {@link System#nanoTime()} when the Register call was sent: the lease's clock started after
     */
    void track(Listener listener, long leaseId, Duration ttl, long sentNanos) {
        long interval = ttl.toNanos() / 3;
        Entry entry = new Entry(listener, leaseId, interval);
        // the first renewal anywhere in the second half of the first interval, counted from the request (a slow
        // response must not eat into the lease)
        entry.dueNanos = sentNanos + Backoff.jitter(interval);
        lock.lock();
        try {
            Entry old = entries.put(listener, entry);
            if (old != null) {
                queue.remove(old);
            }
            queue.add(entry);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops renewing the listener's lease. A call in flight may still report its outcome.
     *
     * @param listener the listener given to {@link #track}
     */
    void untrack(Listener listener) {
        lock.lock();
        try {
            Entry old = entries.remove(listener);
            if (old != null) {
                queue.remove(old);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Number of leases being renewed.
     *
     * @return lease count
     */
    int size() {
        lock.lock();
        try {
            return entries.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the scheduler; a call in flight may still report its outcome. Does not wait.
     */
    @Override
    public void close() {
        closed = true;
        scheduler.interrupt();
    }

    private void run() {
        while (!closed) {
            List<Entry> batch;
            try {
                batch = nextBatch();
            } catch (InterruptedException e) {
                return;
            }
            // a slow or failing call must not delay the next batch
            Thread.ofVirtual().name("lease-renewal").start(() -> send(batch));
        }
    }

    /*
     * Waits until the first lease is due, then takes it with every lease due within its slack (a fifth of its
     * interval), up to MAX_BATCH: renewing slightly early is what makes batches.
     */
    private List<Entry> nextBatch() throws InterruptedException {
        lock.lock();
        try {
            while (true) {
                Entry head = queue.peek();
                long now = System.nanoTime();
                if (head == null) {
                    changed.await();
                } else if (head.dueNanos > now) {
                    changed.awaitNanos(head.dueNanos - now);
                } else {
                    break;
                }
            }
            long now = System.nanoTime();
            List<Entry> batch = new ArrayList<>();
            while (batch.size() < MAX_BATCH && !queue.isEmpty() && queue.peek().dueNanos - queue.peek().interval / 5 <= now) {
                batch.add(queue.poll());
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void send(List<Entry> batch) {
        KeepAliveRequest.Builder request = KeepAliveRequest.newBuilder();
        batch.forEach(e -> request.addLeaseIds(e.leaseId));
        long sent = System.nanoTime();
        // a renewal stuck on a dying replica must fail in time to be retried on another before the lease is gone
        long interval = batch.stream().mapToLong(e -> e.interval).min().orElse(CALL_DEADLINE.toNanos());
        Duration deadline = Duration.ofNanos(Math.min(CALL_DEADLINE.toNanos(), interval));
        KeepAliveResponse response;
        try {
            response = hub.blocking(deadline).keepAlive(request.build());
        } catch (StatusRuntimeException e) {
            if (closed) {
                return;
            }
            if (failing.compareAndSet(false, true)) {
                LOG.log(Level.WARNING, "cannot renew " + batch.size() + " leases (" + HubConnection.describe(e.getStatus())
                                       + "); retrying each with backoff");
            }
            hub.reconnectNow();
            batch.forEach(entry -> reschedule(entry, entry.backoff.nextMillis() * 1_000_000L));
            return;
        }
        if (failing.compareAndSet(true, false)) {
            LOG.log(Level.INFO, "lease renewals reach the hub again");
        }
        Map<Long, Boolean> alive = new HashMap<>();
        for (LeaseStatus status : response.getLeasesList()) {
            alive.put(status.getLeaseId(), status.getAlive());
        }
        for (Entry entry : batch) {
            Boolean renewed = alive.get(entry.leaseId);
            if (renewed == null) {
                reschedule(entry, entry.backoff.nextMillis() * 1_000_000L);
            } else if (renewed) {
                entry.backoff.reset();
                // the lease was renewed no earlier than the request was sent
                entry.listener.renewed(entry.leaseId, sent);
                reschedule(entry, entry.interval * 9 / 10 + Backoff.jitter(entry.interval / 5));
            } else {
                untrack(entry);
                entry.listener.lost(entry.leaseId);
            }
        }
    }

    private void reschedule(Entry entry, long delayNanos) {
        lock.lock();
        try {
            if (entries.get(entry.listener) != entry) {
                return;
            }
            entry.dueNanos = System.nanoTime() + delayNanos;
            queue.add(entry);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void untrack(Entry entry) {
        lock.lock();
        try {
            if (entries.get(entry.listener) == entry) {
                entries.remove(entry.listener);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Where the outcomes of one lease's renewals go. Called on renewal threads; must not block.
     */
    interface Listener {
        /**
         * The lease was renewed.
         *
         * @param leaseId   lease
         * @param sentNanos {@link System#nanoTime()} when the renewal was sent
         */
        void renewed(long leaseId, long sentNanos);

        /**
         * The hub reported the lease gone; it is no longer renewed.
         *
         * @param leaseId lease
         */
        void lost(long leaseId);
    }

    private static final class Entry {
        private final Listener listener;
        private final long leaseId;
        private final long interval;
        private final Backoff backoff;
        private long dueNanos;

        private Entry(Listener listener, long leaseId, long interval) {
            this.listener = listener;
            this.leaseId = leaseId;
            this.interval = interval;
            this.backoff = new Backoff(Duration.ofMillis(100), Duration.ofNanos(Math.min(interval, 3_000_000_000L)));
        }
    }
}
