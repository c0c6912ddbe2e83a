package io.switchboard.runtime;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Tag;
import io.helidon.metrics.api.Timer;
import io.switchboard.server.LatencyHistograms;

/**
 * Counts every gRPC call by method and status and records its latency by method, in Prometheus as
 * {@code switchboard_rpc_server_calls_total{method,status}} and {@code switchboard_rpc_server_duration_seconds}.
 * Meters are looked up once per label set. Thread safe.
 */
final class RpcMetrics implements ServerInterceptor {
    private final MeterRegistry registry;
    private final Map<List<String>, Counter> calls = new ConcurrentHashMap<>();
    private final Map<String, Timer> durations = new ConcurrentHashMap<>();

    RpcMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        long start = System.nanoTime();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                calls.computeIfAbsent(List.of(method, status.getCode().name()), k -> registry.getOrCreate(
                        Counter.builder("switchboard.rpc.server.calls")
                                .description("gRPC calls served, by method and status")
                                .tags(List.of(Tag.create("method", method), Tag.create("status", k.get(1)))))).increment();
                durations.computeIfAbsent(method, m -> registry.getOrCreate(
                        LatencyHistograms.timer("switchboard.rpc.server.duration", "gRPC call latency, by method")
                                .tags(List.of(Tag.create("method", m))))).record(Duration.ofNanos(System.nanoTime() - start));
                super.close(status, trailers);
            }
        }, headers);
    }
}
