package io.switchboard.registry;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Predicate;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.Instance;

/**
 * Finds services through the hub and calls them.
 * <p>
 * {@link #endpoints(String)} follows a service's instances; {@link #channel(String, Balancing)} gives a grpc-java
 * channel whose name resolver is fed by those endpoints, so new instances receive calls as soon as they register
 * and removed ones none after the change arrives. Thread safe.
 */
public interface Discovery {
    /**
     * How a call ends when its instance went away under it: UNAVAILABLE (connection lost), CANCELLED (the dying
     * server cancelled its streams) or INTERNAL (the connection died in the middle of an answer: "end-of-stream
     * mid-frame"). Channels from {@link #channel(String, Balancing, Set)} retry the named calls once on
     * these codes; a caller that retries by itself should use the same set.
     */
    Set<Status.Code> CUT_BY_A_DYING_INSTANCE = Collections.unmodifiableSet(
            EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.CANCELLED, Status.Code.INTERNAL));

    /**
     * The live endpoint set of a service; the first call starts its watch, later calls share it.
     *
     * @param service service name
     * @return live endpoints
     */
    ServiceEndpoints endpoints(String service);

    /**
     * The live instances of every service, through one watch; the first call starts it, later calls share it. Its
     * {@link ServiceEndpoints#service()} is empty and its instances are sorted by service, then id.
     *
     * @return every live instance
     */
    ServiceEndpoints allServices();

    /**
     * A published API schema, fetched from the hub (see {@code Hub.GetSchema}); its bytes are checked against the
     * id, which is their hash. Blocks for at most a few seconds.
     *
     * @param schemaId the id an instance names
     * @return the schema
     * @throws io.grpc.StatusRuntimeException NOT_FOUND when the hub has no such schema, UNAVAILABLE or
     *                                        DEADLINE_EXCEEDED when it cannot be reached, DATA_LOSS when the bytes
     *                                        are not the ones the id names or not a schema
     */
    ApiSchema schema(String schemaId);

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
        return channel(service, balancing, Set.of());
    }

    /**
     * A channel as {@link #channel(String, Balancing)} that also retries calls to the given gRPC services or
     * methods once, on another instance, when their instance went away under them: UNAVAILABLE, CANCELLED by the
     * server, or INTERNAL from a response cut mid-frame (grpc-java's retry policy), and ejects outliers as
     * {@link CallPolicy#DEFAULT} does, without hedging.
     *
     * @param service            service name
     * @param balancing          balancing policy
     * @param retryOnUnavailable full gRPC service names ({@code pkg.Service}) or methods ({@code pkg.Service/Method})
     * @return a new channel
     */
    default ManagedChannel channel(String service, Balancing balancing, Set<String> retryOnUnavailable) {
        return channel(service, balancing, retryOnUnavailable, CallPolicy.DEFAULT.withHedgingDelay(Duration.ZERO));
    }

    /**
     * A channel as {@link #channel(String, Balancing)} that routes around frozen, slow and failing instances as the
     * policy says: calls to the named gRPC services or methods are hedged (or, with no hedging delay, retried once
     * when a dying instance cut them) within a retry budget, and instances that fail far more calls than the others
     * are ejected for a while. Only name calls that are safe to repeat: they may run on two instances. Calls not named
     * are never sent twice, except those that never left the client, which grpc-java retries by itself. A hedge
     * goes to another instance than the call's earlier attempts when another is ready (with
     * {@link Balancing#LEAST_OUTSTANDING}; round robin just takes the next instance).
     *
     * @param service    service name
     * @param balancing  balancing policy
     * @param idempotent full gRPC service names ({@code pkg.Service}) or methods ({@code pkg.Service/Method})
     * @param policy     hedging, budget and ejection settings
     * @return a new channel
     */
    ManagedChannel channel(String service, Balancing balancing, Set<String> idempotent, CallPolicy policy);

    /**
     * A channel as {@link #channel(String, Balancing, Set, CallPolicy)} over only the instances of the service that
     * the filter takes, fed by {@link #allServices()}: a caller that chose what to call from that view (a gateway
     * routing a method to the instances whose schema declares it) calls the instances it saw.
     *
     * @param service    service name, which the instances' certificates must name
     * @param which      the instances of the service to call; must not block
     * @param balancing  balancing policy
     * @param idempotent full gRPC service names or methods that are safe to repeat
     * @param policy     hedging, budget and ejection settings
     * @return a new channel
     */
    ManagedChannel channel(String service, Predicate<Instance> which, Balancing balancing, Set<String> idempotent,
                           CallPolicy policy);

    /**
     * A channel as {@link #channel(String, Predicate, Balancing, Set, CallPolicy)} for server-streaming calls whose
     * caller asks for each message only when its own reader takes it (the gateway's event streams): a stream may hold
     * at most {@code window} bytes its caller has not read, so a stream whose reader stalls holds little memory and
     * slows its instance. The connection's own window is given back as bytes arrive (grpc-java's OkHttp transport),
     * so a stalled stream never holds up the others on its connection. Nothing is hedged or retried.
     *
     * @param service   service name, which the instances' certificates must name
     * @param which     the instances of the service to call; must not block
     * @param balancing balancing policy
     * @param policy    ejection settings (its hedging is not used)
     * @param window    the HTTP/2 flow-control window of each stream, bytes
     * @return a new channel
     */
    ManagedChannel streamChannel(String service, Predicate<Instance> which, Balancing balancing, CallPolicy policy,
                                 int window);
}
