package io.switchboard.gateway.upstream;

import java.net.SocketAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Deadline;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.switchboard.gateway.routes.Route;
import io.switchboard.gateway.routes.RouteTable;
import io.switchboard.registry.Balancing;
import io.switchboard.registry.CallPolicy;
import io.switchboard.registry.Discovery;
import io.switchboard.registry.ServiceEndpoints;

/**
 * The backend services behind the routes: one grpc-java channel per service, fed by discovery, balancing over its
 * live instances with one connection each, hedging idempotent calls that a frozen instance holds and retrying those
 * that a dying instance cut, ejecting instances that fail most calls. Thread safe.
 */
public final class Upstreams implements AutoCloseable {
    private final Map<String, ManagedChannel> channels = new HashMap<>();
    private final Map<String, ServiceEndpoints> endpoints = new HashMap<>();
    private final CallPolicy policy;

    /**
     * Channels to every backend of the table.
     *
     * @param discovery discovery
     * @param table     routes
     * @param balancing balancing policy
     * @param policy    hedging, retry budget and outlier ejection for every backend (hedges for idempotent routes only)
     */
    public Upstreams(Discovery discovery, RouteTable table, Balancing balancing, CallPolicy policy) {
        this.policy = policy;
        for (String backend : table.backends()) {
            Set<String> idempotent = new HashSet<>();
            table.routes().stream()
                    .filter(r -> r.backend().equals(backend) && r.idempotent())
                    .forEach(r -> idempotent.add(r.method().getFullMethodName()));
            channels.put(backend, discovery.channel(backend, balancing, idempotent, policy));
            endpoints.put(backend, discovery.endpoints(backend));
        }
    }

    /**
     * Whether every backend's instance set has arrived from the hub.
     *
     * @return true once all are synced
     */
    public boolean ready() {
        return endpoints.values().stream().allMatch(ServiceEndpoints::synced);
    }

    /**
     * Live instances of a backend.
     *
     * @param backend backend name
     * @return instance count
     */
    public int instances(String backend) {
        ServiceEndpoints set = endpoints.get(backend);
        return set == null ? 0 : set.instances().size();
    }

    /**
     * Whether extra attempts of idempotent calls are hedges (sent while the first still runs) rather than retries
     * (sent after it failed).
     *
     * @return true when hedging
     */
    public boolean hedging() {
        return policy.hedging();
    }

    /**
     * Calls a route's method on a live instance of its backend.
     *
     * @param route    the route
     * @param request  the request
     * @param metadata metadata to send (request id, token)
     * @param attempts told the instance that answered (or failed) and the attempts the call took
     * @return the response
     * @throws io.grpc.StatusRuntimeException the backend's status; UNAVAILABLE at once when no instance is known
     */
    public Message call(Route route, Message request, Metadata metadata, Attempts attempts) {
        ServiceEndpoints live = endpoints.get(route.backend());
        if (!live.synced()) {
            throw Status.UNAVAILABLE.withDescription("service discovery has not answered yet").asRuntimeException();
        }
        if (live.instances().isEmpty()) {
            throw Status.UNAVAILABLE.withDescription("no live instance of " + route.backend()).asRuntimeException();
        }
        Deadline deadline = Deadline.after(route.deadlineMillis(), TimeUnit.MILLISECONDS);
        AtomicBoolean headersArrived = new AtomicBoolean();
        try {
            return attempt(route, request, metadata, deadline, new PeerReporter(attempts, headersArrived));
        } catch (StatusRuntimeException e) {
            /*
             * The channel's retry policy retries a call only until the answer's headers arrive. Helidon's gRPC server
             * writes them apart from the message, so an instance that dies between the two cuts a call no policy
             * retries (GatewayFailoverTest caught one such 503 in 8,000 GETs). An idempotent call cut that way gets
             * one more attempt here, within the same deadline: a unary call that failed after its headers never got
             * its answer. GatewayRetryTest cuts a backend's connection right after its headers.
             */
            if (route.idempotent() && headersArrived.get() && Discovery.CUT_BY_A_DYING_INSTANCE.contains(e.getStatus().getCode())) {
                attempts.gatewayRetried();
                return attempt(route, request, metadata, deadline, new PeerReporter(attempts, new AtomicBoolean()));
            }
            throw e;
        }
    }

    private Message attempt(Route route, Message request, Metadata metadata, Deadline deadline, PeerReporter reporter) {
        return ClientCalls.blockingUnaryCall(
                ClientInterceptors.intercept(channels.get(route.backend()),
                                             MetadataUtils.newAttachHeadersInterceptor(metadata),
                                             reporter),
                route.method(),
                CallOptions.DEFAULT.withDeadline(deadline),
                request);
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }

    /*
     * Reports the remote address of the transport a call ended on (after hedges and retries, the winning attempt's)
     * and counts the call's attempts, and notes whether the answer's headers arrived.
     */
    private record PeerReporter(Attempts attempts, AtomicBoolean headersArrived) implements ClientInterceptor {
        @Override
        public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
            CallOptions counted = options.withStreamTracerFactory(attempts.tracer);
            return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, counted)) {
                @Override
                public void start(Listener<A> listener, Metadata headers) {
                    ClientCall<Q, A> call = this;
                    super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                        @Override
                        public void onHeaders(Metadata answerHeaders) {
                            headersArrived.set(true);
                            super.onHeaders(answerHeaders);
                        }

                        @Override
                        public void onClose(Status status, Metadata trailers) {
                            SocketAddress address = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
                            if (address != null) {
                                attempts.peer(address);
                            }
                            super.onClose(status, trailers);
                        }
                    }, headers);
                }
            };
        }
    }
}
