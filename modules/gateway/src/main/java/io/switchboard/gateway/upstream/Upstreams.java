package io.switchboard.gateway.upstream;

import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

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
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.gateway.routes.RouteTable;
import io.switchboard.registry.Balancing;
import io.switchboard.registry.CallPolicy;
import io.switchboard.registry.Discovery;
import io.switchboard.registry.client.OneCall;
import io.switchboard.schema.Route;

/**
 * The backend services behind the routes: one grpc-java channel per service (per set of schemas during a rolling
 * update, so that a method goes only to instances that declare it), fed by discovery, balancing over those live
 * instances with one connection each, hedging idempotent calls that a frozen instance holds and retrying those
 * that a dying instance cut, ejecting instances that fail most calls. Thread safe.
 */
public final class Upstreams implements AutoCloseable {
    private static final System.Logger LOGGER = System.getLogger(Upstreams.class.getName());
    /* how long a channel no route uses any more stays open for the calls that chose it from the table before */
    private static final long RETIRE_AFTER_MILLIS = 10_000;
    /* HTTP/2's smallest largest frame: a window below it would split every frame */
    private static final int MIN_STREAM_WINDOW = 16_384;
    /*
     * Streams per connection to an instance. A Helidon 4.5 server whose writers wait for a connection's window breaks
     * the connection (GOAWAY FLOW_CONTROL_ERROR "Window size too big"): measured with 100 streams of 16 kB posts on one
     * connection, a 1 MiB window broke and a 4 MiB one held. grpc-java's OkHttp transport gives a connection the same
     * window as each stream, so streams are spread over connections: one post to 32 streams (20 kB at most each) is
     * well within a 1 MiB window.
     */
    private static final int STREAMS_PER_CONNECTION = 32;

    private final Discovery discovery;
    private final Balancing balancing;
    /* one channel per backend and set of schemas that declare a route: the instances that serve those routes */
    private final Map<Upstream, ManagedChannel> channels = new ConcurrentHashMap<>();
    /* the channels of streaming routes: as many connections to each instance as their streams need */
    private final Map<Upstream, StreamChannels> streamChannels = new ConcurrentHashMap<>();
    /* the upstreams the current table uses, and the backends it has routes of but no live instance */
    private volatile Set<Upstream> inUse = Set.of();
    private volatile Set<String> unavailable = Set.of();
    private final CallPolicy policy;
    private final int streamWindow;
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
     * Upstreams with no route yet (see {@link #use(RouteTable)}).
     *
     * @param discovery discovery
     * @param balancing balancing policy
     * @param policy       hedging, retry budget and outlier ejection for every backend (hedges for idempotent routes
     *                     only)
     * @param streamWindow the flow-control window of each stream of a streaming route, bytes: what a stream whose
     *                     client stalls may hold here, besides its buffered messages
     */
    public Upstreams(Discovery discovery, Balancing balancing, CallPolicy policy, int streamWindow) {
        if (streamWindow < MIN_STREAM_WINDOW) {
            throw new IllegalArgumentException("gateway.streams.window must be at least " + MIN_STREAM_WINDOW + " bytes, got "
                                               + streamWindow);
        }
        this.discovery = discovery;
        this.balancing = balancing;
        this.policy = policy;
        this.streamWindow = streamWindow;
        // the hedging delay, or as long when hedging is off: a unary answer's message follows its headers at once
        this.stallAfterHeadersNanos = (policy.hedging() ? policy.hedgingDelay() : CallPolicy.DEFAULT.hedgingDelay()).toNanos();
        long sweepNanos = Math.max(stallAfterHeadersNanos / 3, TimeUnit.MILLISECONDS.toNanos(10));
        sweeper.scheduleWithFixedDelay(this::cancelStalled, sweepNanos, sweepNanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Opens the channels a new table's routes call, before the table serves: one per backend and set of schemas, over
     * the backend's live instances of those schemas, retrying and hedging the methods of its idempotent routes.
     * Channels the table no longer uses close a while later, once calls that chose them from the last table are done.
     *
     * @param table the table about to serve
     */
    public synchronized void use(RouteTable table) {
        if (sweeper.isShutdown()) {
            // closed: a table built while the gateway stops opens nothing
            return;
        }
        Map<Upstream, Set<String>> idempotent = new HashMap<>();
        for (Route route : table.routes()) {
            Set<String> methods = idempotent.computeIfAbsent(Upstream.of(route), u -> new HashSet<>());
            // a stream is never hedged nor retried by the channel: its client resumes it
            if (route.idempotent() && !route.streaming()) {
                methods.add(route.method().getFullMethodName());
            }
        }
        idempotent.forEach((upstream, methods) -> {
            if (upstream.streams()) {
                streamChannels.computeIfAbsent(upstream, StreamChannels::new);
            } else {
                channels.computeIfAbsent(upstream, u -> discovery.channel(u.backend(), u.declaring(), balancing, methods,
                                                                          policy));
            }
        });
        inUse = Set.copyOf(idempotent.keySet());
        unavailable = table.unavailable();
        sweeper.schedule(this::retireUnused, RETIRE_AFTER_MILLIS, TimeUnit.MILLISECONDS);
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
     * @throws io.grpc.StatusRuntimeException the backend's status; UNAVAILABLE at once when no live instance serves
     *                                        the route
     */
    public Message call(Route route, Message request, Metadata metadata, Attempts attempts) {
        if (unavailable.contains(route.backend())) {
            // its channel may still hold connections to instances that died before their records went
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

    /**
     * Opens a server-streaming route's call on a live instance of its backend: no deadline (the stream lasts while its
     * client follows it), no hedge and no retry (the client resumes from its last event). The caller asks for each
     * message with {@link ClientCall#request(int)}, so that a client that reads slowly slows the instance, and
     * cancels the call when its client goes.
     *
     * @param route    a streaming route
     * @param request  the request
     * @param metadata metadata to send (request id, token)
     * @param attempts told the instance that serves the stream
     * @param listener the call's messages and its end
     * @return the started call, with no message requested yet
     */
    public ClientCall<Message, Message> stream(Route route, Message request, Metadata metadata, Attempts attempts,
                                               ClientCall.Listener<Message> listener) {
        if (unavailable.contains(route.backend())) {
            throw Status.UNAVAILABLE.withDescription("no live instance of " + route.backend()).asRuntimeException();
        }
        StreamChannels pool = streamChannels.get(Upstream.of(route));
        if (pool == null) {
            throw Status.UNAVAILABLE.withDescription("the route changed while the call waited").asRuntimeException();
        }
        StreamChannels.Pooled pooled = pool.take();
        Channel channel = ClientInterceptors.intercept(pooled.channel(), MetadataUtils.newAttachHeadersInterceptor(metadata),
                                                       new PeerReporter(attempts, 0));
        ClientCall<Message, Message> call = channel.newCall(route.method(), CallOptions.DEFAULT);
        try {
            call.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onClose(Status status, Metadata trailers) {
                    pool.release(pooled);
                    super.onClose(status, trailers);
                }
            }, new Metadata());
        } catch (RuntimeException e) {
            pool.release(pooled);
            throw e;
        }
        call.sendMessage(request);
        call.halfClose();
        return call;
    }

    private Message attempt(Route route, Message request, Metadata metadata, CallOptions options, PeerReporter reporter) {
        return ClientCalls.blockingUnaryCall(
                ClientInterceptors.intercept(channel(route),
                                             MetadataUtils.newAttachHeadersInterceptor(metadata),
                                             reporter),
                route.method(),
                options,
                request);
    }

    private ManagedChannel channel(Route route) {
        ManagedChannel channel = channels.get(Upstream.of(route));
        if (channel == null) {
            // a table retired more than RETIRE_AFTER_MILLIS ago: only a call that waited that long on its way here
            throw Status.UNAVAILABLE.withDescription("the route changed while the call waited").asRuntimeException();
        }
        return channel;
    }

    private synchronized void retireUnused() {
        Set<Upstream> used = inUse;
        streamChannels.entrySet().removeIf(entry -> {
            if (used.contains(entry.getKey())) {
                return false;
            }
            entry.getValue().shutdown();
            return true;
        });
        channels.entrySet().removeIf(entry -> {
            if (used.contains(entry.getKey())) {
                return false;
            }
            // calls on it finish; new calls go to the current table's channels
            entry.getValue().shutdown();
            return true;
        });
    }

    @Override
    public synchronized void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
        streamChannels.values().forEach(StreamChannels::shutdownNow);
        sweeper.shutdownNow();
    }

    /*
     * The instances a route calls: its backend's, of the schemas that declare it. Streams have channels of their own
     * (Discovery.streamChannel): a window that bounds what a stalled stream holds, no hedge or retry, and at most
     * STREAMS_PER_CONNECTION streams on a connection.
     */
    private record Upstream(String backend, Set<String> schemas, boolean streams) {
        static Upstream of(Route route) {
            return new Upstream(route.backend(), route.schemas(), route.streaming());
        }

        Predicate<Instance> declaring() {
            return instance -> schemas.isEmpty() || schemas.contains(instance.getSchemaId());
        }
    }

    /*
     * The channels of one streaming upstream: each stream goes to the first with fewer than STREAMS_PER_CONNECTION
     * open, a new channel (a connection to each instance) when none has; a channel left with none closes, but the
     * first. Thread safe.
     */
    private final class StreamChannels {
        private final Upstream upstream;
        private final List<Pooled> pool = new ArrayList<>();

        StreamChannels(Upstream upstream) {
            this.upstream = upstream;
        }

        synchronized Pooled take() {
            for (Pooled pooled : pool) {
                if (pooled.open[0] < STREAMS_PER_CONNECTION) {
                    pooled.open[0]++;
                    return pooled;
                }
            }
            Pooled added = new Pooled(discovery.streamChannel(upstream.backend(), upstream.declaring(), balancing, policy,
                                                              streamWindow), new int[] {1});
            pool.add(added);
            return added;
        }

        synchronized void release(Pooled pooled) {
            if (--pooled.open[0] == 0 && pool.size() > 1 && pool.remove(pooled)) {
                pooled.channel().shutdown();
            }
        }

        synchronized void shutdown() {
            pool.forEach(pooled -> pooled.channel().shutdown());
        }

        synchronized void shutdownNow() {
            pool.forEach(pooled -> pooled.channel().shutdownNow());
        }

        /* a channel and its open streams (guarded by the pool) */
        private record Pooled(ManagedChannel channel, int[] open) {
        }
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
            attempts.method(method);
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
