package io.switchboard.registry.impl;

import java.util.List;
import java.util.function.Consumer;

import io.grpc.EquivalentAddressGroup;

/**
 * Where a channel's addresses come from: the hub replicas, or a service's live instances.
 */
interface AddressSource {
    /**
     * Delivers the current addresses (if known) and every later change.
     *
     * @param listener receives the whole address list; must not block
     * @return closes the subscription
     */
    AutoCloseable subscribe(Consumer<List<EquivalentAddressGroup>> listener);

    /**
     * Asks the source to look its addresses up again (grpc-java calls this after connection failures).
     */
    default void refresh() {
    }
}
