package io.switchboard.hub;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.options.GetOption;
import io.switchboard.api.hub.v1.GetServiceRequest;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.identity.IdentityFiles;
import io.switchboard.identity.LocalCa;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static io.switchboard.hub.HubFixture.instance;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The hub against an etcd that serves TLS and requires a client certificate ({@code --client-cert-auth}): the hub
 * connects with its own identity and serves; a client without a certificate, with another CA's, or over plaintext
 * reads nothing; and the hub takes only a server that proves to be etcd for etcd.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class HubEtcdTlsTest {
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void theHubUsesItsCertificateWithALockedEtcdAndNoOneWithoutOneGetsIn() throws Exception {
        try (EtcdServer etcd = EtcdServer.startWithTls(STACK.identityFiles("etcd"))) {
            assertThat(etcd.endpoint()).startsWith("https://");
            HubServer hub = STACK.start(HubServer.start(STACK.config(Map.of("etcd.endpoints", etcd.endpoint()))));
            await().atMost(Duration.ofSeconds(20)).until(hub::ready);
            HubGrpc.HubBlockingStub asPost = HubGrpc.newBlockingStub(STACK.channel("post", "hub", hub.port()))
                    .withDeadlineAfter(10, TimeUnit.SECONDS);
            long lease = asPost.register(RegisterRequest.newBuilder().setInstance(instance("post", "p-1", 9001))
                                                 .setTtlSeconds(30).build()).getLeaseId();
            assertThat(lease).isNotZero();
            assertThat(asPost.getService(GetServiceRequest.newBuilder().setService("post").build()).getInstancesList())
                    .extracting(i -> i.getId()).containsExactly("p-1");

            // the control: the hub's certificate reads the record
            WorkloadTls hubIdentity = STACK.identity("hub");
            assertThat(count(Client.builder().endpoints(etcd.endpoint())
                                     .sslContext(ssl -> ssl.keyManager(hubIdentity.keyManager())
                                             .trustManager(hubIdentity.trustManager())))).isEqualTo(1);
            // no client certificate, another CA's certificate, plaintext: nothing
            IdentityFiles etcdFiles = STACK.identityFiles("etcd");
            assertThatThrownBy(() -> count(Client.builder().endpoints(etcd.endpoint())
                                                   .sslContext(ssl -> ssl.trustManager(etcdFiles.trustBundle().toFile()))))
                    .as("no client certificate").isNotNull();
            IdentityFiles foreign = LocalCa.openOrCreate(STACK.directory("foreign-ca-"), LocalCa.DEFAULT_TRUST_DOMAIN)
                    .ensure("hub");
            assertThatThrownBy(() -> count(Client.builder().endpoints(etcd.endpoint())
                                                   .sslContext(ssl -> ssl.keyManager(foreign.certificate().toFile(),
                                                                                     foreign.privateKey().toFile())
                                                           .trustManager(etcdFiles.trustBundle().toFile()))))
                    .as("another CA's certificate named hub").isNotNull();
            assertThatThrownBy(() -> count(Client.builder().endpoints(etcd.endpoint().replace("https:", "http:"))))
                    .as("plaintext").isNotNull();
        }
        // a server of the platform's CA that is not etcd (post's certificate): the hub does not take it for etcd
        try (EtcdServer impostor = EtcdServer.startWithTls(STACK.identityFiles("post"))) {
            HubServer hub = STACK.start(HubServer.start(STACK.config(Map.of("etcd.endpoints", impostor.endpoint()))));
            await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).until(() -> !hub.ready());
        }
    }

    /* Instance records the client reads, or a failure when it cannot read within a few seconds. */
    private static long count(ClientBuilder builder) throws Exception {
        try (Client client = builder.connectTimeout(Duration.ofSeconds(2)).retryMaxDuration(Duration.ofSeconds(2))
                .build()) {
            return client.getKVClient().get(ByteSequence.from("/switchboard/services/", StandardCharsets.UTF_8),
                                            GetOption.builder().isPrefix(true).withCountOnly(true).build())
                    .get(5, TimeUnit.SECONDS).getCount();
        }
    }
}
