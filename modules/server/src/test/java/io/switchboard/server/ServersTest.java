package io.switchboard.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.health.HealthCheckResponse;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServersTest {
    private static final Metadata.Key<String> GRPC_ENCODING =
            Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER);

    @Test
    void grpcAnswersAreNotCompressedThoughTheClientAcceptsGzip() throws Exception {
        assertThat(answerEncoding(Map.of("port", "0"))).isIn(null, "identity");
    }

    @Test
    void compressionCanBeTurnedBackOnInConfiguration() throws Exception {
        // proves the test above would see a compressed answer
        assertThat(answerEncoding(Map.of("port", "0", "protocols.grpc.enable-compression", "true"))).isEqualTo("gzip");
    }

    @Test
    void readinessFollowsTheCheckAndMetricsAreServedOnTheManagementPortOnly() throws Exception {
        AtomicBoolean ready = new AtomicBoolean(false);
        ReadinessCheck thing = ReadinessCheck.of("thing", () -> HealthCheckResponse.builder().status(ready.get()).build());
        WebServer server = Servers.builder(config(Map.of("port", "0")), thing)
                .build()
                .start();
        try (HttpClient http = HttpClient.newHttpClient()) {
            assertThat(get(http, "http://127.0.0.1:" + server.port() + "/observe/health/live").statusCode())
                    .as("the main port").isEqualTo(404);
            assertThat(get(http, "http://127.0.0.1:" + server.port() + "/observe/metrics").statusCode())
                    .as("the main port").isEqualTo(404);
            String base = "http://127.0.0.1:" + server.port(Servers.MANAGEMENT) + "/observe/";
            HttpResponse<String> notReady = get(http, base + "health/ready");
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).contains("\"name\":\"thing\"");
            ready.set(true);
            assertThat(get(http, base + "health/ready").statusCode()).isEqualTo(200);
            assertThat(get(http, base + "health/live").statusCode()).isEqualTo(200);
            HttpResponse<String> metrics = get(http, base + "metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("# TYPE");
        } finally {
            server.stop();
        }
    }

    @Test
    void theManagementPortIsAPortOfItsOwn() throws Exception {
        ReadinessCheck always = ReadinessCheck.of("always", () -> HealthCheckResponse.builder().status(true).build());
        int port = freePort();
        for (String same : new String[] {String.valueOf(port), "-1", "65536"}) {
            assertThatThrownBy(() -> Servers.builder(config(Map.of("port", String.valueOf(port), "management-port", same)),
                                                     always))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("server.management-port");
        }
        int management = freePort();
        WebServer server = Servers.builder(config(Map.of("port", "0", "management-port", String.valueOf(management))),
                                           always).build();
        Servers.start(server, config(Map.of("port", "0", "management-port", String.valueOf(management))));
        try {
            assertThat(server.port(Servers.MANAGEMENT)).isEqualTo(management);
            // a second server whose management port is taken does not run: it says so rather than run half
            WebServer clash = Servers.builder(config(Map.of("port", "0", "management-port", String.valueOf(management))),
                                              always).build();
            assertThatThrownBy(() -> Servers.start(clash, config(Map.of("port", "0",
                                                                        "management-port", String.valueOf(management)))))
                    .isInstanceOf(UncheckedIOException.class).hasMessageContaining("management port " + management);
            clash.stop();
        } finally {
            server.stop();
        }
    }

    /* The grpc-encoding of a gRPC answer from a server built by Servers, to grpc-java (which accepts gzip). */
    private static String answerEncoding(Map<String, String> serverConfig) throws Exception {
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("", ServingStatus.SERVING);
        WebServer server = Servers.builder(config(serverConfig),
                                           ReadinessCheck.of("ready", () -> HealthCheckResponse.builder().status(true).build()))
                .addRouting(GrpcRouting.builder().service(health.getHealthService()))
                .build()
                .start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        try {
            AtomicReference<String> encoding = new AtomicReference<>();
            Channel observed = ClientInterceptors.intercept(channel, new HeaderCapture(encoding));
            assertThat(HealthGrpc.newBlockingStub(observed).withDeadlineAfter(10, TimeUnit.SECONDS)
                               .check(HealthCheckRequest.getDefaultInstance()).getStatus())
                    .isEqualTo(ServingStatus.SERVING);
            return encoding.get();
        } finally {
            channel.shutdownNow();
            server.stop();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static Config config(Map<String, String> values) {
        return Config.just(ConfigSources.create(values));
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private record HeaderCapture(AtomicReference<String> encoding) implements ClientInterceptor {
        @Override
        public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void start(Listener<A> listener, Metadata headers) {
                    super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                        @Override
                        public void onHeaders(Metadata answerHeaders) {
                            encoding.set(answerHeaders.get(GRPC_ENCODING));
                            super.onHeaders(answerHeaders);
                        }
                    }, headers);
                }
            };
        }
    }
}
