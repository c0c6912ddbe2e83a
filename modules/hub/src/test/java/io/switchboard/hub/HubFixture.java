package io.switchboard.hub;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
import io.switchboard.testkit.Stack;

import static org.awaitility.Awaitility.await;

/**
 * A hub in this JVM on a free port over the given etcd, with a client channel and an HTTP client: plaintext
 * ({@link #start(String, Map)}, for the hub's API as any service may call it), or with mutual TLS as users run it
 * ({@link #withIdentities(Stack, String, Map)}: the stack's CA, a client per service it registers).
 */
final class HubFixture implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /* who reads (GetService, Watch) when the hub needs an identity */
    private static final String READER = "dashboard-test";

    final HubServer hub;
    final ManagedChannel channel;
    final HubGrpc.HubBlockingStub blocking;
    final HubGrpc.HubStub async;
    private final Stack stack;
    private final Map<String, ManagedChannel> callers = new ConcurrentHashMap<>();

    private HubFixture(HubServer hub, Stack stack) {
        this.hub = hub;
        this.stack = stack;
        this.channel = stack == null ? ManagedChannelBuilder.forAddress("127.0.0.1", hub.port()).usePlaintext().build()
                : stack.channel(READER, "hub", hub.port());
        this.blocking = HubGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        this.async = HubGrpc.newStub(channel);
    }

    static HubFixture start(String etcdEndpoints, Map<String, String> extra) {
        Map<String, String> settings = new java.util.HashMap<>(Map.of("server.port", "0",
                                                                       "etcd.endpoints", etcdEndpoints));
        settings.putAll(extra);
        if (settings.keySet().stream().noneMatch(key -> key.startsWith("tls."))) {
            // the hub's API itself, called as any service (withIdentities and HubIdentityTest run it with TLS)
            settings.put("tls.plaintext", "true");
        }
        return new HubFixture(HubServer.start(Config.just(ConfigSources.create(settings))), null);
    }

    /** A hub with its identity from the stack's CA, serving mutual TLS; callers call as the service they register. */
    static HubFixture withIdentities(Stack stack, String etcdEndpoints, Map<String, String> extra) {
        Map<String, String> settings = new java.util.HashMap<>(Map.of("etcd.endpoints", etcdEndpoints));
        settings.putAll(extra);
        return new HubFixture(HubServer.start(stack.config(settings)), stack);
    }

    /** A stub that calls as the given service: with identities, the only one that may register or renew as it. */
    HubGrpc.HubBlockingStub stub(String service) {
        if (stack == null) {
            return stub();
        }
        return HubGrpc.newBlockingStub(callers.computeIfAbsent(service, s -> stack.channel(s, "hub", hub.port())))
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    /** The URL of a path on the hub's management port (the observe endpoints, the dashboard): https with identities. */
    URI url(String path) {
        return URI.create((stack == null ? "http" : "https") + "://127.0.0.1:" + hub.managementPort() + path);
    }

    /*
     * An HTTP/1.1 client for the hub's management port (trusting the stack's CA with identities): closing a response's body then
     * closes its connection, which frees a dashboard stream at once (Java's client over h2 may keep a closed body's
     * stream open, and a test of the stream cap would wait on it).
     */
    HttpClient http() {
        if (stack == null) {
            return HTTP;
        }
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(stack.trustingContext()).build();
    }

    /** A plain or TLS socket to the hub's management port, for requests written byte for byte. */
    Socket socket() throws IOException {
        if (stack == null) {
            return new Socket("127.0.0.1", hub.managementPort());
        }
        return stack.trustingContext().getSocketFactory().createSocket("127.0.0.1", hub.managementPort());
    }

    static HubFixture start(String etcdEndpoints) {
        return start(etcdEndpoints, Map.of());
    }

    HubGrpc.HubBlockingStub stub() {
        return blocking.withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    HttpResponse<String> get(String path) throws Exception {
        return http().send(HttpRequest.newBuilder(url(path)).timeout(Duration.ofSeconds(5)).build(),
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
        if (stack == null) {
            channel.shutdownNow();
        }
        hub.close();
    }
}
