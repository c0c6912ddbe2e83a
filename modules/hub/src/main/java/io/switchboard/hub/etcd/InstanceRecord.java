package io.switchboard.hub.etcd;

import java.time.Instant;

import io.switchboard.api.hub.v1.Instance;

/**
 * One instance record as read from etcd: the instance and what etcd and the hub keep beside it.
 *
 * @param instance     the instance; service and id come from the key
 * @param leaseId      the etcd lease the record is attached to (0 when none)
 * @param registeredAt when the hub wrote the record; null for records that do not say
 */
public record InstanceRecord(Instance instance, long leaseId, Instant registeredAt) {
}
