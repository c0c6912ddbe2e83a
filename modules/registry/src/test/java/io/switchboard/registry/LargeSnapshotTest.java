package io.switchboard.registry;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.hub.HubServer;
import io.switchboard.registry.client.RegistryClient;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.awaitility.Awaitility.await;

/**
 * A registry larger than one gRPC message: the hub sends its snapshot in parts, and discovery holds every instance
 * only once the last part is in (a client that took each part for the whole would keep only the last one's).
 */
@Timeout(value = 120, unit = SECONDS)
class LargeSnapshotTest {
    private static final int INSTANCES = 600;

    @Test
    void aSnapshotInPartsGivesEveryInstance() throws Exception {
        int port = FreePorts.next();
        try (EtcdServer etcd = EtcdServer.start(); HubServer hub = Hubs.start(etcd.endpoint(), port)) {
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            try {
                HubGrpc.HubBlockingStub stub = HubGrpc.newBlockingStub(channel);
                for (int i = 0; i < INSTANCES; i++) {
                    // about 8 KiB of metadata each: some 4.9 MB in all, more than the 4 MiB of one message
                    Instance.Builder instance = Hubs.instance("orders", String.format("orders-%04d", i), 9000).toBuilder();
                    for (int k = 0; k < 16; k++) {
                        instance.putMetadata("key-" + k, "v".repeat(500));
                    }
                    stub.withDeadlineAfter(10, TimeUnit.SECONDS).register(RegisterRequest.newBuilder()
                            .setInstance(instance).setTtlSeconds(120).build());
                }
            } finally {
                channel.shutdownNow();
            }
            try (RegistryClient registry = RegistryClient.create("127.0.0.1:" + port)) {
                ServiceEndpoints all = registry.discovery().allServices();
                await().atMost(Duration.ofSeconds(30)).until(() -> all.synced() && all.instances().size() == INSTANCES);
                ServiceEndpoints orders = registry.discovery().endpoints("orders");
                await().atMost(Duration.ofSeconds(30)).until(() -> orders.synced() && orders.instances().size() == INSTANCES);
            }
        }
    }
}
