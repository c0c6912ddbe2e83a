package io.switchboard.server;

import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import javax.net.ssl.SSLContext;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.okhttp.OkHttpChannelBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.health.HealthCheckResponse;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.switchboard.identity.IdentityFiles;
import io.switchboard.identity.LocalCa;
import io.switchboard.identity.ServiceIdentity;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.server.grpc.CallerIdentity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A component's server with its identity: mutual TLS for gRPC from a client of the platform (grpc-java's OkHttp
 * transport, checking it reached the service it dialled), the caller's identity known to the service, and the
 * observe endpoints reachable over TLS without a client certificate (as Prometheus and probes reach them).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServersTlsTest {
    @TempDir
    Path directory;
    private LocalCa ca;
    private WorkloadTls hub;
    private WebServer server;
    private final AtomicReference<Optional<ServiceIdentity>> seen = new AtomicReference<>();

    @BeforeEach
    void start() throws Exception {
        ca = LocalCa.openOrCreate(directory, "switchboard.local");
        hub = WorkloadTls.load(ca.ensure("hub"), Duration.ofHours(1));
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("", ServingStatus.SERVING);
        ServerInterceptor recorder = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                              ServerCallHandler<Q, A> next) {
                seen.set(CallerIdentity.current());
                return next.startCall(call, headers);
            }
        };
        server = Servers.builder(Config.just(ConfigSources.create(Map.of("port", "0"))),
                                 ReadinessCheck.of("ready", () -> HealthCheckResponse.builder().status(true).build()),
                                 hub)
                .addRouting(GrpcRouting.builder().intercept(new CallerIdentity())
                                    .service(ServerInterceptors.intercept(health.getHealthService(), recorder)))
                .build()
                .start();
    }

    @AfterEach
    void stop() {
        server.stop();
        hub.close();
    }

    @Test
    void aServiceWithItsCertificateCallsTheHubAndTheHubKnowsWhoCalled() throws Exception {
        try (WorkloadTls post = WorkloadTls.load(ca.ensure("post"), Duration.ofHours(1))) {
            assertThat(check(channel(post.sslContext(), post, "hub"))).isEqualTo(ServingStatus.SERVING);
            assertThat(seen.get()).contains(new ServiceIdentity("switchboard.local", "post"));
        }
    }

    @Test
    void aClientThatDialledAnotherServiceRefusesTheServerItReached() throws Exception {
        try (WorkloadTls post = WorkloadTls.load(ca.ensure("post"), Duration.ofHours(1))) {
            assertThatThrownBy(() -> check(channel(post.sslContext(), post, "user")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
            assertThat(seen.get()).as("no call reached the service").isNull();
        }
    }

    @Test
    void aClientWithoutACertificateIsServedAsNoOneAndPlaintextIsNotServed() throws Exception {
        try (WorkloadTls post = WorkloadTls.load(ca.ensure("post"), Duration.ofHours(1))) {
            assertThat(check(channel(ca.trustingContext(), post, "hub"))).isEqualTo(ServingStatus.SERVING);
            assertThat(seen.get()).as("the caller's identity").isEmpty();
        }
        ManagedChannel plaintext = OkHttpChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        try {
            assertThatThrownBy(() -> HealthGrpc.newBlockingStub(plaintext).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance())).isInstanceOf(StatusRuntimeException.class);
        } finally {
            plaintext.shutdownNow();
        }
    }

    @Test
    void theObserveEndpointsAnswerOverTlsWithoutAClientCertificate() throws Exception {
        try (HttpClient http = HttpClient.newBuilder().sslContext(ca.trustingContext()).build()) {
            HttpResponse<String> ready = http.send(
                    HttpRequest.newBuilder(URI.create("https://localhost:" + server.port(Servers.MANAGEMENT) + "/observe/health/ready"))
                            .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void tlsConfigurationIsExactlyOneModeAndReadsAsTheComponentsIdentity() throws Exception {
        IdentityFiles files = ca.ensure("post");
        // mutual TLS is the default: no identity, no start
        assertThatThrownBy(() -> ComponentTls.from(Config.empty(), "post"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("post has no identity")
                .hasMessageContaining("tls.plaintext=true");
        assertThat(ComponentTls.from(tlsConfig(Map.of("plaintext", "true")), "post")).as("plaintext, with a warning")
                .isEmpty();
        assertThatThrownBy(() -> ComponentTls.from(tlsConfig(Map.of("plaintext", "true", "local-ca",
                                                                    directory.toString())), "post"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("choose one");
        assertThatThrownBy(() -> ComponentTls.from(tlsConfig(Map.of("certificate", files.certificate().toString())), "post"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("together");
        // a local CA: the component issues its own certificate there, and the CA's other components trust it
        Path local = directory.resolve("local");
        try (WorkloadTls issued = ComponentTls.from(tlsConfig(Map.of("local-ca", local.toString())), "orders")
                .orElseThrow()) {
            assertThat(issued.identity()).isEqualTo(new ServiceIdentity("switchboard.local", "orders"));
            assertThat(LocalCa.readCertificate(local.resolve("orders.pem")).getIssuerX500Principal())
                    .isEqualTo(LocalCa.readCertificate(local.resolve("ca.pem")).getSubjectX500Principal());
        }
        Map<String, String> all = Map.of("certificate", files.certificate().toString(),
                                         "private-key", files.privateKey().toString(),
                                         "trust-bundle", files.trustBundle().toString());
        assertThatThrownBy(() -> ComponentTls.from(tlsConfig(with(all, "reload-every", "PT0S")), "post"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reload-every");
        // a key that is not the certificate's is refused at start
        assertThatThrownBy(() -> ComponentTls.from(tlsConfig(with(all, "private-key",
                                                                  ca.ensure("user").privateKey().toString())), "post"))
                .isInstanceOf(UncheckedIOException.class);
        // another component's certificate: refused at start, naming both
        assertThatThrownBy(() -> ComponentTls.from(tlsConfig(all), "user"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("user was given the certificate of "
                                                                                  + "spiffe://switchboard.local/service/post");
        try (WorkloadTls post = ComponentTls.from(tlsConfig(all), "post").orElseThrow()) {
            assertThat(post.identity()).isEqualTo(new ServiceIdentity("switchboard.local", "post"));
        }
    }

    private static Config tlsConfig(Map<String, String> values) {
        return Config.just(ConfigSources.create(values));
    }

    private static Map<String, String> with(Map<String, String> values, String key, String value) {
        Map<String, String> changed = new HashMap<>(values);
        changed.put(key, value);
        return changed;
    }

    private ManagedChannel channel(SSLContext context, WorkloadTls verifier, String authority) {
        return OkHttpChannelBuilder.forAddress("127.0.0.1", server.port())
                .overrideAuthority(authority)
                .sslSocketFactory(context.getSocketFactory())
                .hostnameVerifier(verifier.verifierFor())
                .build();
    }

    private static ServingStatus check(ManagedChannel channel) {
        try {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus();
        } finally {
            channel.shutdownNow();
        }
    }
}
