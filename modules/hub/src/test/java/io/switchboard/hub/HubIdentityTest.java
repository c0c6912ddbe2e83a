package io.switchboard.hub;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.okhttp.OkHttpChannelBuilder;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.switchboard.api.hub.v1.GetServiceRequest;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.identity.IdentityFiles;
import io.switchboard.identity.LocalCa;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import static io.switchboard.hub.HubFixture.instance;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A hub with its identity (tls.* configured) over a real etcd: an instance registers only under the service its
 * certificate names; a caller without a certificate or with another service's is refused, counted every time and
 * logged once.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HubIdentityTest {
    @RegisterExtension
    static final Stack STACK = new Stack();
    @TempDir
    Path directory;

    @Test
    void onlyAServicesOwnInstancesRegisterAsItAndRefusalsAreCountedAndLoggedOnce() throws Exception {
        LocalCa ca = LocalCa.openOrCreate(directory, "switchboard.local");
        IdentityFiles hubFiles = ca.ensure("hub");
        List<String> warnings = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger serviceLog = Logger.getLogger(HubService.class.getName());
        serviceLog.addHandler(capture);
        HubServer hub = STACK.start(HubServer.start(Config.just(ConfigSources.create(Map.of(
                "server.port", "0", "etcd.endpoints", STACK.etcd().endpoint(),
                "tls.certificate", hubFiles.certificate().toString(),
                "tls.private-key", hubFiles.privateKey().toString(),
                "tls.trust-bundle", hubFiles.trustBundle().toString())))));
        try (WorkloadTls post = WorkloadTls.load(ca.ensure("post"), Duration.ofHours(1))) {
            await().atMost(Duration.ofSeconds(10)).until(hub::ready);
            HubGrpc.HubBlockingStub asPost = stub(hub, post.sslContext(), post);

            long lease = asPost.register(RegisterRequest.newBuilder().setInstance(instance("post", "p-1", 9001))
                                                 .setTtlSeconds(30).build()).getLeaseId();
            assertThat(lease).isNotZero();

            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(() -> asPost.register(RegisterRequest.newBuilder()
                                                                 .setInstance(instance("user", "fake-user", 9002))
                                                                 .setTtlSeconds(30).build()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                                .isEqualTo(Status.Code.PERMISSION_DENIED));
            }
            // a hostile name is refused as another service's, and never echoed
            assertThatThrownBy(() -> asPost.register(RegisterRequest.newBuilder()
                                                             .setInstance(instance("post\nWARNING forged", "p-3", 9004))
                                                             .setTtlSeconds(30).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                        assertThat(e.getStatus().getDescription()).doesNotContain("forged");
                    });
            HubGrpc.HubBlockingStub anonymous = stub(hub, ca.trustingContext(), post);
            assertThatThrownBy(() -> anonymous.register(RegisterRequest.newBuilder()
                                                                .setInstance(instance("post", "p-2", 9003))
                                                                .setTtlSeconds(30).build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                            .isEqualTo(Status.Code.UNAUTHENTICATED));

            // nothing was written for the refused calls
            assertThat(asPost.getService(GetServiceRequest.newBuilder().setService("user").build()).getInstancesCount())
                    .isZero();
            assertThat(asPost.getService(GetServiceRequest.newBuilder().setService("post").build()).getInstancesList())
                    .extracting(i -> i.getId()).containsExactly("p-1");
            // every refusal counted, one line per caller
            String metrics = get(hub, "/observe/metrics", ca.trustingContext());
            assertThat(counter(metrics, "other-service")).isEqualTo(4);
            assertThat(counter(metrics, "no-identity")).isEqualTo(1);
            assertThat(warnings).filteredOn(w -> w.contains("spiffe://switchboard.local/service/post")).hasSize(1);
            assertThat(warnings).filteredOn(w -> w.contains("without a client certificate")).hasSize(1);
        } finally {
            serviceLog.removeHandler(capture);
        }
    }

    private static HubGrpc.HubBlockingStub stub(HubServer hub, SSLContext context, WorkloadTls verifier) {
        ManagedChannel channel = STACK.start(OkHttpChannelBuilder.forAddress("127.0.0.1", hub.port())
                                                     .overrideAuthority("hub")
                                                     .sslSocketFactory(context.getSocketFactory())
                                                     .hostnameVerifier(verifier.verifierFor())
                                                     .build(), ManagedChannel::shutdownNow);
        return HubGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static double counter(String metrics, String reason) {
        Matcher m = Pattern.compile("switchboard_hub_refused_calls_total\\{[^}]*reason=\"" + reason + "\"[^}]*} (\\S+)")
                .matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static String get(HubServer hub, String path, SSLContext context) throws Exception {
        try (HttpClient http = HttpClient.newBuilder().sslContext(context).build()) {
            return http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + hub.port() + path)).build(),
                             HttpResponse.BodyHandlers.ofString()).body();
        }
    }
}
