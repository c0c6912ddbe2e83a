package io.switchboard.server;

import java.util.Map;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * When tracing is on, and what it does when off: the settings are the standard {@code otel.*} names.
 */
class TracingUnitTest {
    private static final TextMapGetter<Map<String, String>> MAP = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    @Test
    void withNoExporterEndpointTracingIsOffInstallsNothingAndPassesTheCallersTraceContextOn() {
        try (Tracing tracing = Tracing.from("post", Map.<String, String>of()::get)) {
            assertThat(tracing.on()).isFalse();
            assertThat(tracing.serverInterceptors()).isEmpty();
            assertThat(tracing.clientInterceptors()).isEmpty();
            String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
            Context caller = tracing.openTelemetry().getPropagators().getTextMapPropagator()
                    .extract(Context.root(), Map.of("traceparent", traceparent), MAP);
            Span span = tracing.tracer().spanBuilder("GET /post/{id}").setParent(caller).startSpan();
            assertThat(span.isRecording()).as("nothing recorded").isFalse();
            assertThat(span.getSpanContext().getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
            assertThat(span.getSpanContext().getSpanId()).as("the caller's span, unchanged").isEqualTo("00f067aa0ba902b7");
        }
    }

    @Test
    void anOtlpOrZipkinEndpointTurnsItOnAndNoneOrTheSdkSwitchTurnsItOff() {
        for (Map<String, String> on : new Map[] {Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4318"),
                                                Map.of("otel.exporter.otlp.traces.endpoint", "http://127.0.0.1:4318/v1/traces"),
                                                Map.of("otel.exporter.zipkin.endpoint", "http://127.0.0.1:9411/api/v2/spans")}) {
            try (Tracing tracing = Tracing.from("post", on::get)) {
                assertThat(tracing.on()).as("on with %s", on).isTrue();
                assertThat(tracing.serverInterceptors()).hasSize(1);
                assertThat(tracing.clientInterceptors()).hasSize(1);
                // not ended: nothing to export to an endpoint that is not there
                assertThat(tracing.tracer().spanBuilder("recorded").startSpan().isRecording()).isTrue();
            }
        }
        for (Map<String, String> off : new Map[] {Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4318",
                                                         "otel.sdk.disabled", "true"),
                                                  Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4318",
                                                         "otel.traces.exporter", "none")}) {
            try (Tracing tracing = Tracing.from("post", off::get)) {
                assertThat(tracing.on()).as("off with %s", off).isFalse();
            }
        }
    }

    @Test
    void aSamplerNoOneKnowsStopsTheStartWithAMessageNamingTheSetting() {
        System.setProperty("otel.traces.sampler", "sometimes");
        try {
            assertThatThrownBy(() -> Tracing.from("post", Map.of("otel.exporter.zipkin.endpoint",
                                                                 "http://127.0.0.1:9411/api/v2/spans")::get))
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("otel.traces.sampler").hasMessageContaining("sometimes");
        } finally {
            System.clearProperty("otel.traces.sampler");
        }
    }

    @Test
    void otlpOverGrpcIsRefusedWithAMessageSayingWhatToSetInstead() {
        assertThatThrownBy(() -> Tracing.from("post", Map.of("otel.exporter.otlp.endpoint", "http://127.0.0.1:4317",
                                                             "otel.exporter.otlp.protocol", "grpc")::get))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http/protobuf");
    }

    @Test
    void plaintextToAnotherHostIsWarnedOfButNotToThisHostOrOverHttps() {
        assertThat(Tracing.plaintextBeyondThisHost("http://collector.observability:4318")).isTrue();
        assertThat(Tracing.plaintextBeyondThisHost("http://10.0.0.7:4318")).isTrue();
        assertThat(Tracing.plaintextBeyondThisHost("https://collector.observability:4318")).isFalse();
        assertThat(Tracing.plaintextBeyondThisHost("http://127.0.0.1:9411/api/v2/spans")).isFalse();
        assertThat(Tracing.plaintextBeyondThisHost("http://localhost:4318")).isFalse();
        assertThat(Tracing.plaintextBeyondThisHost("http://[::1]:4318")).isFalse();
        assertThat(Tracing.plaintextBeyondThisHost("not a url at all")).isFalse();
    }
}
