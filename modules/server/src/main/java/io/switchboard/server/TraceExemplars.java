package io.switchboard.server;

import io.helidon.metrics.providers.micrometer.spi.SpanContextSupplierProvider;
import io.prometheus.client.exemplars.tracer.common.SpanContextSupplier;
import io.prometheus.client.exemplars.tracer.otel.OpenTelemetrySpanContextSupplier;

/**
 * Exemplars for Helidon's Prometheus registry: a latency histogram's bucket names the trace of a request it counted,
 * the span current while the request was measured (found through {@code ServiceLoader}). Only sampled spans become
 * exemplars, and only the OpenMetrics format ({@code Accept: application/openmetrics-text}) shows them.
 */
public final class TraceExemplars implements SpanContextSupplierProvider {
    @Override
    public SpanContextSupplier get() {
        return new OpenTelemetrySpanContextSupplier();
    }
}
