package io.switchboard.hub.etcd;

/**
 * A change of one instance record, as etcd's watch reports it.
 */
public sealed interface RecordChange {
    /**
     * The revision of the change; changes made in one etcd transaction share it.
     *
     * @return etcd revision
     */
    long revision();

    /**
     * A record written (registered, or written again).
     *
     * @param record   the record as now stored
     * @param revision etcd revision of the write
     */
    record Put(InstanceRecord record, long revision) implements RecordChange {
    }

    /**
     * A record deleted (deregistered, or its lease expired).
     *
     * @param service  service name
     * @param id       instance id
     * @param revision etcd revision of the delete
     */
    record Delete(String service, String id, long revision) implements RecordChange {
    }
}
