package io.switchboard.registry.impl;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.switchboard.api.hub.v1.DeregisterRequest;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.PublishSchemaRequest;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.api.hub.v1.RegisterResponse;
import io.switchboard.registry.Registration;
import io.switchboard.server.Backoff;

/**
 * Keeps one instance registered: a loop on a virtual thread that registers, hands the lease to the client's shared
 * {@link LeaseRenewals} (which batches the renewals of all registrations), and registers again with a new lease when
 * the renewals report the old one lost.
 * <p>
 * The loop owns the lease rather than trusting a keepalive stream to resume by itself (jetcd's does not after an
 * etcd outage). A lease is given up only when the hub reports it gone: while renewals fail (no hub, or the hub
 * without etcd) the registration is not healthy but keeps its lease and the renewals keep trying. After an etcd
 * outage, etcd restores every lease with a fresh TTL, so a live instance simply renews the lease it had, and a fleet
 * does not register again all at once; a dead instance renews nothing and its record goes a TTL later. When the
 * lease is gone (it expired while the hub was out of reach, or etcd lost its data), registering again starts after
 * a random delay, and failures are retried with jittered exponential backoff, without limit, until
 * {@link #close()}.
 */
public final class KeptRegistration implements Registration, LeaseRenewals.Listener {
    private static final System.Logger LOG = System.getLogger(KeptRegistration.class.getName());
    private static final Duration CALL_DEADLINE = Duration.ofSeconds(3);

    private final HubConnection hub;
    private final RegisterSlots slots;
    private final LeaseRenewals renewals;
    private final Instance instance;
    private final ByteString schema;
    private final int ttlSeconds;
    private final long ttlNanos;
    private final Thread thread;
    private final Backoff backoff;
    private final Object signal = new Object();
    private volatile long leaseId;
    private volatile long confirmedNanos;
    private volatile boolean closed;
    private boolean failing;
    private int registrations;
    /* the id the hub gave the schema; null until published, and again when the hub no longer has it */
    private String schemaId;

    private KeptRegistration(HubConnection hub, RegisterSlots slots, LeaseRenewals renewals, Instance instance,
                             ByteString schema, int ttlSeconds) {
        this.hub = hub;
        this.slots = slots;
        this.renewals = renewals;
        this.instance = instance;
        this.schema = schema;
        this.ttlSeconds = ttlSeconds;
        this.ttlNanos = Duration.ofSeconds(ttlSeconds).toNanos();
        this.backoff = new Backoff(Duration.ofMillis(100), Duration.ofMillis(Math.min(3000, ttlSeconds * 1000L / 3)));
        this.thread = Thread.ofVirtual().name("lease-" + instance.getService() + "-" + instance.getId())
                .unstarted(this::run);
    }

    /**
     * Starts keeping an instance registered; returns at once, registering happens in the background.
     *
     * @param hub      the connection Register and Deregister calls go through
     * @param slots    the client's limit on Register calls in flight
     * @param renewals the client's renewals, which renew the lease once granted
     * @param instance the record
     * @param schema   the serialized ApiSchema the instance serves, published before it registers; empty for none
     * @param ttl      lease TTL, whole seconds in 2..300
     * @return the registration
     * @throws IllegalArgumentException for a TTL out of range
     */
    public static KeptRegistration start(HubConnection hub, RegisterSlots slots, LeaseRenewals renewals,
                                         Instance instance, ByteString schema, Duration ttl) {
        if (ttl.toSeconds() < 2 || ttl.toSeconds() > 300) {
            throw new IllegalArgumentException("registry TTL must be 2..300 seconds, got " + ttl.toSeconds());
        }
        KeptRegistration registration = new KeptRegistration(hub, slots, renewals, instance, schema,
                                                             (int) ttl.toSeconds());
        registration.thread.start();
        return registration;
    }

    @Override
    public boolean healthy() {
        // "renewed on time": one renewal may fail and be retried, two missed in a row are not on time
        return !closed && leaseId != 0 && System.nanoTime() - confirmedNanos < ttlNanos * 2 / 3;
    }

    @Override
    public long leaseId() {
        return leaseId;
    }

    @Override
    public Instance instance() {
        return instance;
    }

    @Override
    public void renewed(long lease, long sentNanos) {
        if (lease == leaseId && sentNanos - confirmedNanos > 0) {
            confirmedNanos = sentNanos;
        }
    }

    @Override
    public void lost(long lease) {
        synchronized (signal) {
            if (lease != leaseId) {
                return;
            }
            LOG.log(Level.WARNING, "lease " + Long.toHexString(lease) + " of " + name() + " was lost; registering again");
            leaseId = 0;
            signal.notifyAll();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        renewals.untrack(this);
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long lease = leaseId;
        leaseId = 0;
        if (lease == 0) {
            return;
        }
        try {
            hub.blocking(Duration.ofSeconds(2)).deregister(DeregisterRequest.newBuilder().setLeaseId(lease).build());
            LOG.log(Level.INFO, "deregistered " + name() + " (lease " + Long.toHexString(lease) + ")");
        } catch (StatusRuntimeException e) {
            LOG.log(Level.WARNING, "could not deregister " + name() + " (" + HubConnection.describe(e.getStatus())
                                   + "); its lease expires within " + ttlSeconds + " s");
        }
    }

    private void run() {
        long delay = 0;
        while (!closed) {
            if (!sleep(delay)) {
                return;
            }
            if (leaseId != 0 && !awaitLoss()) {
                return;
            }
            try {
                if (!register()) {
                    return;
                }
                renewals.track(this, leaseId, Duration.ofSeconds(ttlSeconds), confirmedNanos);
                if (closed) {
                    // close() ran while the call was answered: it untracked before we tracked
                    renewals.untrack(this);
                    return;
                }
                backoff.reset();
                delay = 0;
                if (failing) {
                    failing = false;
                    LOG.log(Level.INFO, "hub reachable again for " + name());
                }
            } catch (StatusRuntimeException e) {
                if (closed) {
                    return;
                }
                if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT) {
                    LOG.log(Level.ERROR, "hub rejected the registration of " + name() + ": "
                                         + HubConnection.describe(e.getStatus())
                                         + "; fix the instance record, not retrying");
                    return;
                }
                if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
                    // the hub lost the schema (etcd's data was lost): publish it again on the next attempt
                    schemaId = null;
                }
                if (!failing) {
                    failing = true;
                    // the hub is away, or refused: another lease holds the id (ALREADY_EXISTS), or the identity
                    // does not match (PERMISSION_DENIED); each may change, so keep trying
                    LOG.log(Level.WARNING, "cannot register " + name() + " (" + HubConnection.describe(e.getStatus())
                                           + "); retrying");
                }
                hub.reconnectNow();
                delay = backoff.nextMillis();
            }
        }
    }

    /*
     * Waits while the lease is kept: until the hub reports it gone. Then waits a random part of a renewal interval,
     * so that a crowd that lost its leases together registers spread out.
     * Returns false when closed.
     */
    private boolean awaitLoss() {
        synchronized (signal) {
            while (!closed && leaseId != 0) {
                try {
                    signal.wait();
                } catch (InterruptedException e) {
                    return false;
                }
            }
        }
        renewals.untrack(this);
        return sleep(ThreadLocalRandom.current().nextLong(renewIntervalMillis() / 2 + 1));
    }

    /* Returns false when closed while waiting for a turn. */
    private boolean register() {
        Granted granted;
        try {
            granted = slots.call(() -> {
                Instance record = schema.isEmpty() ? instance : instance.toBuilder().setSchemaId(publishedSchema()).build();
                long sent = System.nanoTime();
                return new Granted(hub.blocking(CALL_DEADLINE).register(RegisterRequest.newBuilder()
                        .setInstance(record)
                        .setTtlSeconds(ttlSeconds)
                        .build()), sent);
            });
        } catch (InterruptedException e) {
            return false;
        }
        synchronized (signal) {
            // the lease was granted no earlier than the request was sent: count its age from there
            confirmedNanos = granted.sentNanos();
            leaseId = granted.response().getLeaseId();
        }
        LOG.log(Level.INFO, (registrations++ == 0 ? "registered " : "registered again ") + name() + " at "
                            + instance.getHost() + ":" + instance.getPort() + " with lease "
                            + Long.toHexString(leaseId) + ", ttl " + ttlSeconds + " s");
        return true;
    }

    /* The schema's id, publishing it first when this registration has not yet (publishing is idempotent). */
    private String publishedSchema() {
        if (schemaId == null) {
            schemaId = hub.blocking(CALL_DEADLINE)
                    .publishSchema(PublishSchemaRequest.newBuilder().setSchema(schema).build())
                    .getSchemaId();
        }
        return schemaId;
    }

    private long renewIntervalMillis() {
        return ttlSeconds * 1000L / 3;
    }

    private String name() {
        return instance.getService() + "/" + instance.getId();
    }

    private boolean sleep(long millis) {
        if (millis <= 0) {
            return !closed;
        }
        try {
            Thread.sleep(millis);
            return !closed;
        } catch (InterruptedException e) {
            return false;
        }
    }

    /* A Register answer and when its request was sent. */
    private record Granted(RegisterResponse response, long sentNanos) {
    }
}
