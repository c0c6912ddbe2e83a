package io.switchboard.registry;

import io.grpc.ManagedChannel;

/**
 * Finds services through the hub and calls them.
 * <p>
 * {@link #endpoints(String)} follows a service's instances; {@link #channel(String, Balancing)} gives a grpc-java
 * channel whose name resolver is fed by those endpoints, so new instances receive calls as soon as they register
 * and removed ones none after the change arrives. Thread safe.
 */
public interface Discovery {
    /**
     * The live endpoint set of a service; the first call starts its watch, later calls share it.
     *
     * @param service service name
     * @return live endpoints
     */
    ServiceEndpoints endpoints(String service);

    /**
     * A channel that balances calls over the service's live instances with one connection per instance.
     * Calls made before the first snapshot wait for it (bounded by their deadline); calls made while the service
     * has no instance fail at once with UNAVAILABLE. The caller owns the channel and shuts it down.
     *
     * @param service   service name
     * @param balancing balancing policy
     * @return a new channel
     */
    default ManagedChannel channel(String service, Balancing balancing) {
        return channel(service, balancing, java.util.Set.of());
    }

    /**
     * A channel as {@link #channel(String, Balancing)} that also retries calls to the given gRPC services or
     * methods once, on another instance, when their instance went away under them: UNAVAILABLE, CANCELLED by the
     * server, or INTERNAL from a response cut mid-frame (grpc-java's retry policy). Only name calls that are safe
     * to repeat: such a call may have reached the server before it died.
     * Calls that never left the client are retried for every method, by grpc-java itself.
     *
     * @param service            service name
     * @param balancing          balancing policy
     * @param retryOnUnavailable full gRPC service names ({@code pkg.Service}) or methods ({@code pkg.Service/Method})
     * @return a new channel
     */
    ManagedChannel channel(String service, Balancing balancing, java.util.Set<String> retryOnUnavailable);
}
