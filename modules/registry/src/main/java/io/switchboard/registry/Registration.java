package io.switchboard.registry;

import io.switchboard.api.hub.v1.Instance;

/**
 * One instance kept registered through the hub.
 * <p>
 * It registers with a lease, renews the lease about every TTL/3, and when the lease is lost (etcd restarted, a
 * long pause, a hub outage longer than the TTL) registers again with a new lease by itself, retrying with
 * jittered exponential backoff for as long as it is open. Thread safe.
 */
public interface Registration extends AutoCloseable {
    /**
     * Whether the lease is alive and renewed on time: the service's readiness. False before the first
     * registration, after a renewal is overdue, and after close.
     *
     * @return true when healthy
     */
    boolean healthy();

    /**
     * The current lease.
     *
     * @return lease id, 0 while not registered
     */
    long leaseId();

    /**
     * The registered record.
     *
     * @return the instance
     */
    Instance instance();

    /**
     * Stops renewing and revokes the lease, so that the record disappears at once (bounded by a short deadline;
     * if the hub cannot be reached, the lease expires by itself within its TTL). Idempotent.
     */
    @Override
    void close();
}
