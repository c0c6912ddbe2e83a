package io.switchboard.hub;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.okhttp.OkHttpChannelBuilder;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.switchboard.api.hub.v1.DeregisterRequest;
import io.switchboard.api.hub.v1.GetSchemaRequest;
import io.switchboard.api.hub.v1.GetServiceRequest;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.KeepAliveRequest;
import io.switchboard.api.hub.v1.ListServicesRequest;
import io.switchboard.api.hub.v1.PublishSchemaRequest;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.api.hub.v1.WatchRequest;
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
            // metrics are the JVM's: counted from what the other test left
            String before = get(hub, "/observe/metrics", ca.trustingContext());

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
            assertThat(counter(metrics, "other-service") - counter(before, "other-service")).isEqualTo(4);
            assertThat(counter(metrics, "no-identity") - counter(before, "no-identity")).isEqualTo(1);
            assertThat(warnings).filteredOn(w -> w.contains("spiffe://switchboard.local/service/post")).hasSize(1);
            assertThat(warnings).filteredOn(w -> w.contains("without a client certificate")).hasSize(1);
        } finally {
            serviceLog.removeHandler(capture);
        }
    }

    @Test
    void aLeaseIsRenewedAndRevokedOnlyByItsServiceAndNoRegistrationReplacesAnothersRecord() throws Exception {
        HubServer hub = STACK.start(HubServer.start(STACK.hubConfig()));
        await().atMost(Duration.ofSeconds(10)).until(hub::ready);
        String before = STACK.http().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + hub.managementPort()
                                                                            + "/observe/metrics")).build(),
                                          HttpResponse.BodyHandlers.ofString()).body();
        double otherLeaseBefore = counter(before, "other-lease");
        double noIdentityBefore = counter(before, "no-identity");
        HubGrpc.HubBlockingStub asPost = HubGrpc.newBlockingStub(STACK.channel("post", "hub", hub.port()));
        HubGrpc.HubBlockingStub asUser = HubGrpc.newBlockingStub(STACK.channel("user", "hub", hub.port()));
        long lease = deadline(asPost).register(RegisterRequest.newBuilder().setInstance(instance("post", "owned-1", 9001))
                                                       .setTtlSeconds(30).build()).getLeaseId();
        long userLease = deadline(asUser).register(RegisterRequest.newBuilder()
                                                           .setInstance(instance("user", "owned-u-1", 9101))
                                                           .setTtlSeconds(30).build()).getLeaseId();

        // the lease id as anyone who opens the dashboard reads it
        String page = STACK.http().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + hub.managementPort()
                                                                          + "/ui/api/services/post")).build(),
                                        HttpResponse.BodyHandlers.ofString()).body();
        Matcher shown = Pattern.compile("\"id\":\"owned-1\".*?\"lease\":\\{\"id\":\"([0-9a-f]+)\"").matcher(page);
        assertThat(shown.find()).as(page).isTrue();
        long read = Long.parseUnsignedLong(shown.group(1), 16);
        assertThat(read).isEqualTo(lease);

        // another service can neither renew nor revoke it, alone or in a batch of its own leases
        assertCode(() -> deadline(asUser).keepAlive(KeepAliveRequest.newBuilder().addLeaseIds(read).build()),
                   Status.Code.PERMISSION_DENIED);
        assertCode(() -> deadline(asUser).keepAlive(KeepAliveRequest.newBuilder().addLeaseIds(userLease)
                                                            .addLeaseIds(read).build()), Status.Code.PERMISSION_DENIED);
        assertCode(() -> deadline(asUser).deregister(DeregisterRequest.newBuilder().setLeaseId(read).build()),
                   Status.Code.PERMISSION_DENIED);
        // nor can a caller without a certificate, which reads nothing either
        HubGrpc.HubBlockingStub anonymous = stub(hub, STACK.trustingContext(), STACK.identity("post"));
        assertCode(() -> anonymous.keepAlive(KeepAliveRequest.newBuilder().addLeaseIds(read).build()),
                   Status.Code.UNAUTHENTICATED);
        assertCode(() -> anonymous.deregister(DeregisterRequest.newBuilder().setLeaseId(read).build()),
                   Status.Code.UNAUTHENTICATED);
        assertCode(() -> anonymous.getService(GetServiceRequest.newBuilder().setService("post").build()),
                   Status.Code.UNAUTHENTICATED);
        assertCode(() -> anonymous.listServices(ListServicesRequest.getDefaultInstance()), Status.Code.UNAUTHENTICATED);
        assertCode(() -> anonymous.publishSchema(PublishSchemaRequest.getDefaultInstance()), Status.Code.UNAUTHENTICATED);
        assertCode(() -> anonymous.getSchema(GetSchemaRequest.newBuilder().setSchemaId("sha256:" + "0".repeat(64))
                                                     .build()), Status.Code.UNAUTHENTICATED);
        assertCode(() -> anonymous.watch(WatchRequest.newBuilder().setService("post").build()).hasNext(),
                   Status.Code.UNAUTHENTICATED);
        // and a second instance of post cannot take over the record another lease holds
        assertCode(() -> deadline(asPost).register(RegisterRequest.newBuilder()
                                                           .setInstance(instance("post", "owned-1", 9666))
                                                           .setTtlSeconds(30).build()), Status.Code.ALREADY_EXISTS);

        try (Client etcd = Client.builder().endpoints(STACK.etcd().endpoint()).build()) {
            KeyValue record = etcd.getKVClient().get(ByteSequence.from("/switchboard/services/post/owned-1",
                                                                       StandardCharsets.UTF_8)).get().getKvs().get(0);
            assertThat(record.getLease()).as("the record's lease").isEqualTo(lease);
            assertThat(record.getValue().toString(StandardCharsets.UTF_8)).contains("9001").doesNotContain("9666");
            // a lease that holds no record is not renewed: its holder registers again
            long bare = etcd.getLeaseClient().grant(30).get().getID();
            assertThat(deadline(asPost).keepAlive(KeepAliveRequest.newBuilder().addLeaseIds(bare).build())
                               .getLeasesList()).singleElement().satisfies(status -> assertThat(status.getAlive()).isFalse());
        }
        // the owner renews and revokes its lease as before
        assertThat(deadline(asPost).keepAlive(KeepAliveRequest.newBuilder().addLeaseIds(lease).build()).getLeasesList())
                .singleElement().satisfies(status -> assertThat(status.getAlive()).isTrue());
        deadline(asPost).deregister(DeregisterRequest.newBuilder().setLeaseId(lease).build());
        assertThat(deadline(asPost).getService(GetServiceRequest.newBuilder().setService("post").build())
                           .getInstancesList()).extracting(i -> i.getId()).doesNotContain("owned-1");

        String metrics = STACK.http().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + hub.managementPort()
                                                                             + "/observe/metrics")).build(),
                                           HttpResponse.BodyHandlers.ofString()).body();
        // metrics are the JVM's: counted from what the other test left
        assertThat(counter(metrics, "other-lease") - otherLeaseBefore).isEqualTo(3);
        assertThat(counter(metrics, "no-identity") - noIdentityBefore).isEqualTo(7);
    }

    private static HubGrpc.HubBlockingStub deadline(HubGrpc.HubBlockingStub stub) {
        return stub.withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static void assertCode(Runnable call, Status.Code code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
                                                             e -> assertThat(e.getStatus().getCode()).isEqualTo(code));
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
            return http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + hub.managementPort() + path)).build(),
                             HttpResponse.BodyHandlers.ofString()).body();
        }
    }
}
