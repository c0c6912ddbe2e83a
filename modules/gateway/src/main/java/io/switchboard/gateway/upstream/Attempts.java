package io.switchboard.gateway.upstream;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.Attributes;
import io.grpc.ClientStreamTracer;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.switchboard.server.Tracing;

/**
 * What one upstream call took: the instance that answered (or failed) last, and how many attempts beyond the first
 * it sent, as grpc-java's hedges or retries or as the gateway's own retry after headers. Attempts that never left
 * the gateway (grpc-java's transparent retries) do not count.
 * <p>
 * Each attempt is a client span of the request's trace (a hedge, a retry, the gateway's retry: one span each, with the
 * instance's address), and carries its own W3C trace context to the instance, so that the instance's span is the
 * attempt's child. With tracing off, an attempt carries the request's incoming trace context, if any, unchanged.
 * (Made here, on grpc-java's per-attempt stream tracer, because OpenTelemetry's gRPC instrumentation makes one span
 * per call, above the channel's hedges and retries, and grpc-java's own OpenTelemetry module sends
 * {@code grpc-trace-bin}, not W3C trace context.) Thread safe: attempts run on transport threads.
 */
public final class Attempts {
    private static final ClientStreamTracer NOTHING = new ClientStreamTracer() {
    };
    private static final Metadata.Key<String> TRACEPARENT = Metadata.Key.of("traceparent",
                                                                            Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> TRACESTATE = Metadata.Key.of("tracestate", Metadata.ASCII_STRING_MARSHALLER);
    private static final TextMapSetter<Metadata> SETTER = (headers, key, value) -> {
        Metadata.Key<String> name = TRACEPARENT.name().equals(key) ? TRACEPARENT : TRACESTATE.name().equals(key)
                ? TRACESTATE : Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER);
        headers.discardAll(name);
        headers.put(name, value);
    };

    private final Tracing tracing;
    private final Context request;
    private final boolean spans;
    private final AtomicInteger extra = new AtomicInteger();
    private final AtomicInteger started = new AtomicInteger();
    private volatile MethodDescriptor<?, ?> method;
    private volatile SocketAddress peer;
    private volatile boolean gatewayRetry;
    private volatile boolean headers;

    /** Counts the channel's attempts of the call, and traces each; installed on the call's options. */
    final ClientStreamTracer.Factory tracer = new ClientStreamTracer.Factory() {
        @Override
        public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
            if (info.getPreviousAttempts() > 0 && !info.isTransparentRetry()) {
                extra.incrementAndGet();
            }
            return spans ? attempt(info, headers) : NOTHING;
        }
    };

    /**
     * The attempts of a call made for a request.
     *
     * @param tracing the gateway's tracing
     * @param request the request's context, holding its server span (or, tracing off, its incoming trace context)
     */
    public Attempts(Tracing tracing, Context request) {
        this.tracing = tracing;
        this.request = request;
        // off, with no incoming trace context, an attempt has nothing to record or pass on
        this.spans = tracing.on() || Span.fromContext(request).getSpanContext().isValid();
    }

    private ClientStreamTracer attempt(ClientStreamTracer.StreamInfo info, Metadata headers) {
        MethodDescriptor<?, ?> called = method;
        Span span = tracing.tracer().spanBuilder(called == null ? "attempt" : called.getFullMethodName())
                .setParent(request)
                .setSpanKind(SpanKind.CLIENT)
                .startSpan();
        // counted across the request: the gateway's own retry goes on from its first call's attempts
        int number = started.incrementAndGet();
        boolean recording = span.isRecording();
        if (recording) {
            span.setAttribute("rpc.system", "grpc");
            span.setAttribute("rpc.service", called == null ? "" : called.getServiceName());
            span.setAttribute("rpc.method", called == null ? "" : called.getBareMethodName());
            // each attribute costs every export: the first attempt, the usual one, has no number
            if (number > 1) {
                span.setAttribute("switchboard.attempt", number);
            }
            if (info.isTransparentRetry()) {
                span.setAttribute("switchboard.attempt.transparent_retry", true);
            }
        }
        // these headers are the attempt's own copy: each attempt sends its own span as the parent
        tracing.openTelemetry().getPropagators().getTextMapPropagator().inject(request.with(span), headers, SETTER);
        return new ClientStreamTracer() {
            @Override
            public void streamCreated(Attributes transportAttrs, Metadata streamHeaders) {
                if (recording && transportAttrs.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR) instanceof InetSocketAddress address) {
                    span.setAttribute("server.address", address.getHostString());
                    span.setAttribute("server.port", address.getPort());
                }
            }

            @Override
            public void streamClosed(Status status) {
                if (recording) {
                    span.setAttribute("rpc.grpc.status_code", status.getCode().value());
                    // a hedge that lost to another attempt ends CANCELLED: not the request's failure
                    if (!status.isOk() && status.getCode() != Status.Code.CANCELLED) {
                        span.setStatus(StatusCode.ERROR, status.getCode().name());
                    }
                }
                span.end();
            }
        };
    }

    /**
     * The remote address of the last attempt's instance.
     *
     * @return the address, or null when no attempt reached an instance
     */
    public SocketAddress peer() {
        return peer;
    }

    /**
     * Attempts sent beyond the first (hedges, retries, the gateway's retry).
     *
     * @return 0 for a call answered by its first attempt
     */
    public int extra() {
        return extra.get() + (gatewayRetry ? 1 : 0);
    }

    /**
     * Whether the gateway itself retried the call after its first instance cut it after the headers.
     *
     * @return true when it did
     */
    public boolean gatewayRetry() {
        return gatewayRetry;
    }

    /**
     * Whether an answer's headers arrived from an instance (for a failed call: the instance began to answer).
     *
     * @return true when they did
     */
    public boolean headersArrived() {
        return headers;
    }

    void headers() {
        headers = true;
    }

    void method(MethodDescriptor<?, ?> called) {
        method = called;
    }

    void peer(SocketAddress address) {
        peer = address;
    }

    void gatewayRetried() {
        gatewayRetry = true;
    }
}
