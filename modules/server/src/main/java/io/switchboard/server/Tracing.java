package io.switchboard.server;

import java.lang.System.Logger.Level;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.switchboard.server.grpc.RequestIds;

/**
 * A component's OpenTelemetry tracing, configured by the standard {@code OTEL_*} environment variables (or their
 * {@code otel.*} system properties) through the SDK's autoconfiguration: {@code OTEL_EXPORTER_OTLP_ENDPOINT} (or
 * {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}) exports spans over OTLP/HTTP in protobuf (OTLP over gRPC is not
 * offered), {@code OTEL_EXPORTER_ZIPKIN_ENDPOINT} to a Zipkin server; {@code OTEL_TRACES_SAMPLER} and
 * {@code OTEL_TRACES_SAMPLER_ARG} set the sampling (by default every trace, or as its caller decided),
 * {@code OTEL_SERVICE_NAME} the name (by default the component's).
 * <p>
 * Only W3C trace context is propagated unless {@code OTEL_PROPAGATORS} says otherwise: a client's W3C baggage would
 * otherwise pass through the gateway to every service.
 * <p>
 * Off when no exporter is configured (or {@code OTEL_SDK_DISABLED=true}, or {@code OTEL_TRACES_EXPORTER=none}): then
 * no span is recorded and no interceptor is installed, and only the W3C trace context of a request passes through
 * the gateway unchanged. Only spans are exported: metrics stay with Prometheus, logs with the console. Thread safe.
 */
public final class Tracing implements AutoCloseable {
    /** The instrumentation scope of Switchboard's own spans. */
    public static final String SCOPE = "io.switchboard";

    private static final System.Logger LOG = System.getLogger(Tracing.class.getName());

    private final OpenTelemetry openTelemetry;
    private final OpenTelemetrySdk sdk;
    private final Tracer tracer;
    private final GrpcTelemetry grpc;

    private Tracing(OpenTelemetry openTelemetry, OpenTelemetrySdk sdk) {
        this.openTelemetry = openTelemetry;
        this.sdk = sdk;
        this.tracer = openTelemetry.getTracer(SCOPE);
        this.grpc = sdk == null ? null
                : GrpcTelemetry.builder(openTelemetry)
                        .setEmitMessageEvents(false)
                        // the request id on each service's span: a log line's id finds its span
                        .setCapturedServerRequestMetadata(List.of(RequestIds.KEY.name()))
                        .build();
    }

    /**
     * Tracing that records nothing and passes a request's W3C trace context on as it came.
     *
     * @return tracing that is off
     */
    public static Tracing off() {
        return new Tracing(OpenTelemetry.propagating(ContextPropagators.create(W3CTraceContextPropagator.getInstance())),
                           null);
    }

    /**
     * The component's tracing from the {@code OTEL_*} environment variables and {@code otel.*} system properties.
     * Logs one line saying whether it is on, and where spans go.
     *
     * @param component the component's name, the default service name of its spans
     * @return the tracing, off when no exporter is configured
     * @throws io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException when a setting is invalid
     * @throws IllegalArgumentException when OTLP over gRPC is asked for
     */
    public static Tracing fromEnvironment(String component) {
        return from(component, key -> Optional.ofNullable(System.getProperty(key))
                .orElseGet(() -> System.getenv(key.toUpperCase().replace('.', '_').replace('-', '_'))));
    }

    /**
     * The component's tracing from the given settings, looked up by their {@code otel.*} names; otherwise as
     * {@link #fromEnvironment(String)} (autoconfiguration itself reads the environment and system properties).
     *
     * @param component the component's name
     * @param settings  a setting by name, or null when unset
     * @return the tracing
     * @throws IllegalArgumentException when OTLP over gRPC is asked for
     */
    static Tracing from(String component, UnaryOperator<String> settings) {
        String exporter = exporter(settings);
        if ("true".equalsIgnoreCase(settings.apply("otel.sdk.disabled")) || exporter.equals("none")) {
            LOG.log(Level.INFO, component + " tracing is off: set OTEL_EXPORTER_OTLP_ENDPOINT (or "
                                + "OTEL_EXPORTER_ZIPKIN_ENDPOINT) to export spans");
            return off();
        }
        for (String protocol : List.of("otel.exporter.otlp.protocol", "otel.exporter.otlp.traces.protocol")) {
            if ("grpc".equals(settings.apply(protocol))) {
                throw new IllegalArgumentException(protocol + "=grpc: " + component + " exports spans over OTLP/HTTP "
                                                   + "only; set http/protobuf and the collector's HTTP port (4318)");
            }
        }
        OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                // defaults below the environment and system properties
                .addPropertiesSupplier(() -> Map.of("otel.service.name", component,
                                                    "otel.traces.exporter", exporter,
                                                    // the specification's default (the SDK's own is grpc)
                                                    "otel.exporter.otlp.protocol", "http/protobuf",
                                                    // W3C trace context only: W3C baggage from the internet would
                                                    // reach every service (OTEL_PROPAGATORS adds it back)
                                                    "otel.propagators", "tracecontext",
                                                    "otel.metrics.exporter", "none",
                                                    "otel.logs.exporter", "none"))
                .disableShutdownHook()
                .build()
                .getOpenTelemetrySdk();
        String endpoint = endpoint(settings, exporter);
        String sampler = Optional.ofNullable(settings.apply("otel.traces.sampler")).orElse("parentbased_always_on")
                         + Optional.ofNullable(settings.apply("otel.traces.sampler.arg")).map(a -> " " + a).orElse("");
        LOG.log(Level.INFO, component + " tracing is on: spans go to " + endpoint + " (" + exporter + "), sampled "
                            + sampler);
        if (plaintextBeyondThisHost(endpoint)) {
            LOG.log(Level.WARNING, component + " sends its spans in plaintext to " + endpoint
                                   + ": give an https:// endpoint unless the network to it is trusted");
        }
        return new Tracing(sdk, sdk);
    }

    /* The exporter named, or the one whose endpoint is given, or none. */
    private static String exporter(UnaryOperator<String> settings) {
        String named = settings.apply("otel.traces.exporter");
        if (named != null && !named.isBlank()) {
            return named.trim();
        }
        if (settings.apply("otel.exporter.otlp.traces.endpoint") != null
            || settings.apply("otel.exporter.otlp.endpoint") != null) {
            return "otlp";
        }
        return settings.apply("otel.exporter.zipkin.endpoint") != null ? "zipkin" : "none";
    }

    private static String endpoint(UnaryOperator<String> settings, String exporter) {
        if (exporter.contains("zipkin")) {
            return Optional.ofNullable(settings.apply("otel.exporter.zipkin.endpoint"))
                    .orElse("http://localhost:9411/api/v2/spans");
        }
        return Optional.ofNullable(settings.apply("otel.exporter.otlp.traces.endpoint"))
                .or(() -> Optional.ofNullable(settings.apply("otel.exporter.otlp.endpoint")))
                .orElse("http://localhost:4318");
    }

    static boolean plaintextBeyondThisHost(String endpoint) {
        try {
            URI uri = URI.create(endpoint.trim());
            String host = uri.getHost() == null ? "" : uri.getHost();
            return "http".equalsIgnoreCase(uri.getScheme())
                   && !(host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]"));
        } catch (IllegalArgumentException e) {
            // autoconfiguration refuses it with its own message
            return false;
        }
    }

    /**
     * Whether spans are recorded and exported.
     *
     * @return true when on
     */
    public boolean on() {
        return sdk != null;
    }

    /**
     * The OpenTelemetry instance: the SDK when on, one that only passes trace context on when off.
     *
     * @return the instance
     */
    public OpenTelemetry openTelemetry() {
        return openTelemetry;
    }

    /**
     * The tracer of Switchboard's own spans.
     *
     * @return the tracer
     */
    public Tracer tracer() {
        return tracer;
    }

    /**
     * Interceptors that give each unary gRPC call a server span, continuing the caller's trace; first on a server.
     * Health checks and reflection get none.
     *
     * @return the interceptors: none when off
     */
    public List<ServerInterceptor> serverInterceptors() {
        if (grpc == null) {
            return List.of();
        }
        ServerInterceptor spans = grpc.createServerInterceptor();
        return List.of(new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                              ServerCallHandler<Q, A> next) {
                return traced(call.getMethodDescriptor()) ? spans.interceptCall(call, headers, next)
                        : next.startCall(call, headers);
            }
        });
    }

    /*
     * Unary calls of the platform's and the services' own APIs. Not the probes' health checks and reflection, nor
     * streams: a registry watch lasts as long as the process.
     */
    private static boolean traced(MethodDescriptor<?, ?> method) {
        String service = method.getServiceName();
        return method.getType() == MethodDescriptor.MethodType.UNARY
               && !(service != null && (service.startsWith("grpc.health.") || service.startsWith("grpc.reflection.")));
    }

    /**
     * Interceptors that give each unary call a client span and send its trace context along. Streaming calls (the
     * registry's watches, which last as long as the process) and health checks get none.
     *
     * @return the interceptors: none when off
     */
    public List<ClientInterceptor> clientInterceptors() {
        if (grpc == null) {
            return List.of();
        }
        ClientInterceptor spans = grpc.createClientInterceptor();
        return List.of(new ClientInterceptor() {
            @Override
            public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options,
                                                         Channel next) {
                return traced(method) ? spans.interceptCall(method, options, next) : next.newCall(method, options);
            }
        });
    }

    /**
     * Exports the spans still buffered (for at most 5 s) and stops. Idempotent.
     */
    @Override
    public void close() {
        if (sdk != null) {
            sdk.shutdown().join(5, TimeUnit.SECONDS);
        }
    }
}
