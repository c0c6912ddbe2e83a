package io.switchboard.gateway.upstream;

import java.net.SocketAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

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
import io.switchboard.registry.OneCall;
import io.switchboard.registry.ServiceEndpoints;

/**
 * The backend services behind the routes: one grpc-java channel per service, fed by discovery, balancing over its
 * live instances with one connection each, hedging idempotent calls that a frozen instance holds and retrying those
 * that a dying instance cut, ejecting instances that fail most calls. Thread safe.
 */
public final class Upstreams implements AutoCloseable {
    private static final System.Logger LOGGER = System.getLogger(Upstreams.class.getName());
    private final Map<String, ManagedChannel> channels = new HashMap<>();
    private final Map<String, ServiceEndpoints> endpoints = new HashMap<>();
    private final CallPolicy policy;
    /*
     * How long an idempotent call's answer may pause once its headers came (before its message, or between the
     * message and the trailers that end the call) before the call goes to another instance.
     */
    private final long stallAfterHeadersNanos;
    /*
     * The idempotent calls whose answer began (headers) and has not ended, swept a few times per stall limit: a
     * set costs a call about nothing, where a timer of its own (a ScheduledThreadPoolExecutor task) cost 19 % more
     * CPU per request in bench/gateway-ab.sh.
     */
    private final Set<PeerReporter> answering = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "upstream-stall-sweeper");
        thread.setDaemon(true);
        return thread;
    });

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
        // the hedging delay, or as long when hedging is off: a unary answer's message follows its headers at once
        this.stallAfterHeadersNanos = (policy.hedging() ? policy.hedgingDelay() : CallPolicy.DEFAULT.hedgingDelay()).toNanos();
        long sweepNanos = Math.max(stallAfterHeadersNanos / 3, TimeUnit.MILLISECONDS.toNanos(10));
        sweeper.scheduleWithFixedDelay(this::cancelStalled, sweepNanos, sweepNanos, TimeUnit.NANOSECONDS);
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
        PeerReporter first = new PeerReporter(attempts, route.idempotent() ? stallAfterHeadersNanos : 0);
        // the gateway's own retry below goes to an instance the first call did not try
        CallOptions options = new OneCall().on(CallOptions.DEFAULT.withDeadline(deadline));
        try {
            return attempt(route, request, metadata, options, first);
        } catch (StatusRuntimeException e) {
            /*
             * The channel's hedges and retries apply to a call only until the answer's headers arrive. Helidon's gRPC
             * server writes them apart from the message, so an instance that dies or freezes between the two holds a
             * call no policy sends elsewhere (GatewayFailoverTest caught one such 503 in 8,000 GETs, GrayFailureTest
             * a 504 in a few runs, frozen after the headers or after the message, before the trailers). An idempotent
             * call cut that way, or whose answer paused for the hedging delay once begun, gets one more attempt here,
             * on an instance the first call did not try, within the same deadline. GatewayRetryTest cuts a backend's
             * connection right after its headers, and stalls one there.
             */
            if (route.idempotent() && attempts.headersArrived() && Discovery.CUT_BY_A_DYING_INSTANCE.contains(e.getStatus().getCode())) {
                attempts.gatewayRetried();
                return attempt(route, request, metadata, options, new PeerReporter(attempts, 0));
            }
            throw e;
        }
    }

    private Message attempt(Route route, Message request, Metadata metadata, CallOptions options, PeerReporter reporter) {
        return ClientCalls.blockingUnaryCall(
                ClientInterceptors.intercept(channels.get(route.backend()),
                                             MetadataUtils.newAttachHeadersInterceptor(metadata),
                                             reporter),
                route.method(),
                options,
                request);
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
        sweeper.shutdownNow();
    }

    private void cancelStalled() {
        long now = System.nanoTime();
        for (PeerReporter call : answering) {
            if (now - call.progressAt > call.stallNanos && answering.remove(call)) {
                try {
                    call.cancelStalled();
                } catch (RuntimeException | LinkageError | AssertionError e) {
                    // a periodic task that throws is never run again: this one keeps sweeping
                    LOGGER.log(System.Logger.Level.WARNING, "cannot cancel a call stalled in its answer: " + e);
                }
            }
        }
    }

    /*
     * Reports the remote address of the transport a call ended on (after hedges and retries, the winning attempt's)
     * and counts the call's attempts, and notes whether the answer's headers arrived. With a stall limit, it cancels
     * a call whose answer, once begun, paused for longer than the limit, which then ends UNAVAILABLE.
     */
    private final class PeerReporter implements ClientInterceptor {
        private final Attempts attempts;
        private final long stallNanos;
        private volatile long progressAt;
        private volatile boolean stalled;
        private volatile ClientCall<?, ?> call;

        private PeerReporter(Attempts attempts, long stallNanos) {
            this.attempts = attempts;
            this.stallNanos = stallNanos;
        }

        @Override
        public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
            CallOptions counted = options.withStreamTracerFactory(attempts.tracer);
            PeerReporter reporter = this;
            return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, counted)) {
                @Override
                public void start(Listener<A> listener, Metadata headers) {
                    ClientCall<Q, A> forwarding = this;
                    super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                        @Override
                        public void onHeaders(Metadata answerHeaders) {
                            attempts.headers();
                            if (stallNanos > 0) {
                                call = forwarding;
                                progressAt = System.nanoTime();
                                answering.add(reporter);
                            }
                            super.onHeaders(answerHeaders);
                        }

                        @Override
                        public void onMessage(A message) {
                            // the trailers (the call's status) must follow as quickly
                            progressAt = System.nanoTime();
                            super.onMessage(message);
                        }

                        @Override
                        public void onClose(Status status, Metadata trailers) {
                            answering.remove(reporter);
                            SocketAddress address = forwarding.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
                            if (address != null) {
                                attempts.peer(address);
                            }
                            super.onClose(stalled && status.getCode() == Status.Code.CANCELLED
                                          ? Status.UNAVAILABLE.withDescription("the instance stalled in its answer")
                                          : status, trailers);
                        }
                    }, headers);
                }
            };
        }

        /*
         * blockingUnaryCall's thread made its last call on the call before it waits, so this cancel from the
         * sweeper's thread overlaps no other (ClientCall is not thread safe).
         */
        private void cancelStalled() {
            stalled = true;
            call.cancel("the instance began its answer and stalled", null);
        }
    }
}
