package io.switchboard.server.grpc;

import java.lang.System.Logger.Level;
import java.util.List;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Metrics;
import io.helidon.metrics.api.Tag;
import io.switchboard.server.logging.RefusalLog;

/**
 * Serves only callers that show a certificate of the platform: a gRPC call without one gets UNAUTHENTICATED before
 * it reaches a service, is counted in {@code switchboard_rpc_refused_calls_total{reason="no-identity"}} and logged
 * once per address per minute. The observe endpoints on the same port are HTTP, not gRPC, and stay open to probes and
 * Prometheus. What a known caller may do is each service's own decision. Thread safe.
 */
public final class IdentifiedCallers implements ServerInterceptor {
    private static final System.Logger LOG = System.getLogger(IdentifiedCallers.class.getName());

    private final String component;
    private final RefusalLog refusals = new RefusalLog();
    private final Counter refused = Metrics.globalRegistry().getOrCreate(
            Counter.builder("switchboard.rpc.refused.calls")
                    .description("gRPC calls refused for their caller, by reason")
                    .tags(List.of(Tag.create("reason", "no-identity"))));

    /**
     * @param component the component's name, for the log
     */
    public IdentifiedCallers(String component) {
        this.component = component;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                      ServerCallHandler<Q, A> next) {
        if (CallerIdentity.ofConnection().isPresent()) {
            return next.startCall(call, headers);
        }
        refused.increment();
        String peer = CallerIdentity.peerHost();
        if (refusals.first(peer)) {
            LOG.log(Level.WARNING, component + " refused a gRPC call without a client certificate from " + peer
                                   + "; further refusals of this caller within a minute are only counted");
        }
        call.close(Status.UNAUTHENTICATED.withDescription(component + " serves only callers with a certificate of the"
                                                          + " platform"), new Metadata());
        return new ServerCall.Listener<>() {
        };
    }
}
