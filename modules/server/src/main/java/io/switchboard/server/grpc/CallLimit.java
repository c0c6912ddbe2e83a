package io.switchboard.server.grpc;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.helidon.common.concurrency.limits.FixedLimit;
import io.helidon.common.concurrency.limits.LimitAlgorithm;
import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Metrics;
import io.helidon.metrics.api.Tag;
import io.switchboard.server.logging.RefusalLog;

/**
 * A service's own bound on the calls it serves at once (Helidon's fixed concurrency limit, no queue): a call beyond
 * it is answered UNAVAILABLE at once, before it takes a thread, a connection of the pool or heap, so that a caller's
 * balancer tries another instance (the gateway does, for idempotent calls) instead of piling calls on this one. A
 * refusal is counted in {@code switchboard_rpc_refused_calls_total{reason="limit"}} and logged once a minute. gRPC
 * health and reflection calls are never refused, nor server-streaming calls, which last as long as their clients
 * follow them and which their services cap themselves. Thread safe.
 */
public final class CallLimit implements ServerInterceptor {
    private static final System.Logger LOG = System.getLogger(CallLimit.class.getName());

    private final String component;
    private final int calls;
    private final LimitAlgorithm limit;
    private final RefusalLog refusals = new RefusalLog();
    private final Counter refused = Metrics.globalRegistry().getOrCreate(
            Counter.builder("switchboard.rpc.refused.calls")
                    .description("gRPC calls refused for their caller, by reason")
                    .tags(List.of(Tag.create("reason", "limit"))));

    /**
     * @param component the component's name, for the log and the refusal
     * @param calls     calls served at once, at least 1
     */
    public CallLimit(String component, int calls) {
        if (calls < 1) {
            throw new IllegalArgumentException("limits.calls must be at least 1, got " + calls);
        }
        this.component = component;
        this.calls = calls;
        limit = FixedLimit.create(fixed -> fixed.permits(calls).queueLength(0).name(component + "-calls"));
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                      ServerCallHandler<Q, A> next) {
        String service = call.getMethodDescriptor().getServiceName();
        // a stream lasts as long as its client follows it: the service caps its streams itself
        if (service != null && (service.startsWith("grpc.health.") || service.startsWith("grpc.reflection."))
            || !call.getMethodDescriptor().getType().serverSendsOneMessage()) {
            return next.startCall(call, headers);
        }
        Optional<LimitAlgorithm.Token> admitted = limit.tryAcquire(false);
        if (admitted.isEmpty()) {
            refused.increment();
            if (refusals.first("limit")) {
                LOG.log(Level.WARNING, component + " serves " + calls + " calls at once, its limit (limits.calls), and "
                                       + "refused another; further refusals within a minute are only counted");
            }
            call.close(Status.UNAVAILABLE.withDescription(component + " serves as many calls as it may"), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        Release release = new Release(admitted.get());
        ServerCall<Q, A> releasing = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                try {
                    super.close(status, trailers);
                } finally {
                    release.run();
                }
            }
        };
        ServerCall.Listener<Q> listener;
        try {
            listener = next.startCall(releasing, headers);
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onCancel() {
                try {
                    super.onCancel();
                } finally {
                    release.run();
                }
            }

            @Override
            public void onComplete() {
                try {
                    super.onComplete();
                } finally {
                    release.run();
                }
            }
        };
    }

    /* gives the permit back once, whichever of close, cancel and complete comes first */
    private static final class Release implements Runnable {
        private final LimitAlgorithm.Token token;
        private final AtomicBoolean done = new AtomicBoolean();

        Release(LimitAlgorithm.Token token) {
            this.token = token;
        }

        @Override
        public void run() {
            if (done.compareAndSet(false, true)) {
                token.success();
            }
        }
    }
}
