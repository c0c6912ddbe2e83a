package io.switchboard.gateway.edge;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Tag;
import io.helidon.metrics.api.Timer;
import io.switchboard.server.LatencyHistograms;

/**
 * The gateway's meters: {@code switchboard_gateway_requests_total{route,method,status}},
 * {@code switchboard_gateway_request_duration_seconds{route}} (histogram),
 * {@code switchboard_gateway_upstream_calls_total{service,outcome}},
 * {@code switchboard_gateway_upstream_retried_calls_total{service,kind,outcome}} (calls that took more than one attempt:
 * kind {@code hedge}, {@code retry} or {@code gateway-retry}; outcome the call's final gRPC code),
 * {@code switchboard_gateway_shed_requests_total{limit}} (requests answered 503 at once beyond a limit: {@code in-flight}
 * or {@code rate-limited-route}). The gauges of
 * instances and routes are the live routes'. Meters are looked up once per label set. Thread safe.
 */
final class GatewayMetrics {
    private final MeterRegistry registry;
    private final Map<List<String>, Counter> requests = new ConcurrentHashMap<>();
    private final Map<String, Timer> durations = new ConcurrentHashMap<>();
    private final Map<List<String>, Counter> upstream = new ConcurrentHashMap<>();
    private final Map<List<String>, Counter> retried = new ConcurrentHashMap<>();
    private final Map<String, Counter> shed = new ConcurrentHashMap<>();

    GatewayMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /* nanos < 0: a stream, counted but not a latency */
    void request(String route, String method, int status, long nanos) {
        requests.computeIfAbsent(List.of(route, method, String.valueOf(status)), k -> registry.getOrCreate(
                Counter.builder("switchboard.gateway.requests")
                        .description("HTTP requests, by route, method and status")
                        .tags(List.of(Tag.create("route", route), Tag.create("method", method),
                                      Tag.create("status", k.get(2)))))).increment();
        if (nanos < 0) {
            return;
        }
        durations.computeIfAbsent(route, r -> registry.getOrCreate(
                LatencyHistograms.timer("switchboard.gateway.request.duration", "HTTP request latency, by route")
                        .tags(List.of(Tag.create("route", r))))).record(Duration.ofNanos(nanos));
    }

    void upstream(String service, String outcome) {
        upstream.computeIfAbsent(List.of(service, outcome), k -> registry.getOrCreate(
                Counter.builder("switchboard.gateway.upstream.calls")
                        .description("Calls to backend services, by service and gRPC outcome")
                        .tags(List.of(Tag.create("service", service), Tag.create("outcome", outcome))))).increment();
    }

    void retried(String service, String kind, String outcome) {
        retried.computeIfAbsent(List.of(service, kind, outcome), k -> registry.getOrCreate(
                Counter.builder("switchboard.gateway.upstream.retried.calls")
                        .description("Calls to backend services that took more than one attempt, by service, kind of "
                                     + "the extra attempts (hedge, retry, gateway-retry) and the call's gRPC outcome")
                        .tags(List.of(Tag.create("service", service), Tag.create("kind", kind),
                                      Tag.create("outcome", outcome))))).increment();
    }

    void shed(String limit) {
        shed.computeIfAbsent(limit, l -> registry.getOrCreate(
                Counter.builder("switchboard.gateway.shed.requests")
                        .description("Requests answered 503 at once because a limit of requests in flight was reached, "
                                     + "by limit (in-flight, rate-limited-route)")
                        .tags(List.of(Tag.create("limit", l))))).increment();
    }
}
