package io.switchboard.hub;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.DeleteOption;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.Instance;

import static org.awaitility.Awaitility.await;

/**
 * A hub in this JVM on a free port over the given etcd, with a client channel and an HTTP client; plaintext
 * unless the settings name {@code tls.*}.
 */
final class HubFixture implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    final HubServer hub;
    final ManagedChannel channel;
    final HubGrpc.HubBlockingStub blocking;
    final HubGrpc.HubStub async;

    private HubFixture(HubServer hub) {
        this.hub = hub;
        this.channel = ManagedChannelBuilder.forAddress("127.0.0.1", hub.port()).usePlaintext().build();
        this.blocking = HubGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        this.async = HubGrpc.newStub(channel);
    }

    static HubFixture start(String etcdEndpoints, Map<String, String> extra) {
        Map<String, String> settings = new java.util.HashMap<>(Map.of("server.port", "0",
                                                                       "etcd.endpoints", etcdEndpoints));
        settings.putAll(extra);
        if (settings.keySet().stream().noneMatch(key -> key.startsWith("tls."))) {
            // the hub's API itself, called as any service: HubIdentityTest and the suites over a Stack run it with TLS
            settings.put("tls.plaintext", "true");
        }
        return new HubFixture(HubServer.start(Config.just(ConfigSources.create(settings))));
    }

    static HubFixture start(String etcdEndpoints) {
        return start(etcdEndpoints, Map.of());
    }

    HubGrpc.HubBlockingStub stub() {
        return blocking.withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hub.port() + path))
                                 .timeout(Duration.ofSeconds(5)).build(),
                         HttpResponse.BodyHandlers.ofString());
    }

    static Instance instance(String service, String id, int port) {
        return Instance.newBuilder().setService(service).setId(id).setHost("127.0.0.1").setPort(port)
                .setVersion("1.0.0").setZone("local").setWeight(100).putMetadata("team", "core").build();
    }

    static Client etcdClient(String endpoint) {
        return Client.builder().endpoints(endpoint).build();
    }

    /** Deletes every record under /switchboard/ and waits until the hub's view is empty: a clean slate per test. */
    void clear(Client etcdClient) throws Exception {
        etcdClient.getKVClient().delete(ByteSequence.from("/switchboard/", StandardCharsets.UTF_8),
                                        DeleteOption.builder().isPrefix(true).build()).get();
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.instanceCount() == 0);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        hub.close();
    }
}
