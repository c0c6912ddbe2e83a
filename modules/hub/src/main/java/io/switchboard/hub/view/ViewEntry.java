package io.switchboard.hub.view;

import java.time.Instant;

import io.switchboard.api.hub.v1.Instance;

/**
 * One instance as the view holds it: the record and what etcd knows about it beside the record.
 *
 * @param instance     the instance
 * @param leaseId      the etcd lease the record is attached to (0 when none)
 * @param registeredAt when the hub wrote the record; null for records that do not say
 */
public record ViewEntry(Instance instance, long leaseId, Instant registeredAt) {
}
