package io.switchboard.registry;

import java.util.List;
import java.util.function.Consumer;

import io.switchboard.api.hub.v1.Instance;

/**
 * The live instances of one service, kept current by a Watch through the hub.
 * <p>
 * After a hub or etcd outage the watch subscribes again and the set is replaced by a fresh snapshot, so no stale
 * instance survives a reconnect; while the hub is unreachable the last known set stays. Thread safe.
 */
public interface ServiceEndpoints {
    /**
     * The service name.
     *
     * @return name
     */
    String service();

    /**
     * The current instances, sorted by id; an immutable copy.
     *
     * @return instances
     */
    List<Instance> instances();

    /**
     * Whether at least one snapshot has arrived since the watch started.
     *
     * @return true once the set reflects the hub
     */
    boolean synced();

    /**
     * Calls the listener with the current set (if synced) and after every change, on a registry thread.
     * Listeners must not block.
     *
     * @param listener receives the whole new set
     * @return a handle that removes the listener when closed
     */
    AutoCloseable subscribe(Consumer<List<Instance>> listener);
}
