package io.switchboard.hub.etcd;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.WatchRequest;
import io.switchboard.api.hub.v1.WatchResponse;
import io.switchboard.hub.HubServer;
import io.switchboard.testkit.EtcdServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The registry at its caps (hub.max-instances 10,000) with the largest records an instance may have (8 KiB of
 * metadata): the hub reads it from etcd in pages and a subscriber that accepts parts gets its snapshot in parts, each
 * under grpc-java's default 4 MiB message limit, which the whole (about 85 MB) would pass twenty times over.
 */
@Timeout(value = 180, unit = SECONDS)
class LargeRegistryTest {
    private static final int INSTANCES = 10_000;
    private static final int DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024;

    @Test
    void tenThousandLargestRecordsSyncAndReachAWatcherInPartsUnderTheDefaultMessageLimit() throws Exception {
        try (EtcdServer etcd = EtcdServer.start(); Client client = Client.builder().endpoints(etcd.endpoint()).build()) {
            long lease = client.getLeaseClient().grant(300).get(10, SECONDS).getID();
            Instant now = Instant.now();
            List<Op> batch = new ArrayList<>();
            for (int i = 0; i < INSTANCES; i++) {
                Instance instance = largest("svc-" + (i % 10), String.format("instance-%05d", i));
                batch.add(Op.put(ByteSequence.from(InstanceRecords.PREFIX + instance.getService() + "/" + instance.getId(),
                                                   StandardCharsets.UTF_8),
                                 ByteSequence.from(InstanceRecords.encode(instance, now)),
                                 PutOption.builder().withLeaseId(lease).build()));
                if (batch.size() == 100 || i == INSTANCES - 1) {
                    client.getKVClient().txn().Then(batch.toArray(Op[]::new)).commit().get(30, SECONDS);
                    batch.clear();
                }
            }

            HubServer hub = HubServer.start(Config.just(ConfigSources.create(Map.of(
                    "server.port", "0", "etcd.endpoints", etcd.endpoint(), "tls.plaintext", "true"))));
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", hub.port()).usePlaintext().build();
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> hub.instanceCount() == INSTANCES);
                // a client with grpc-java's default limits, as every registry client has
                Iterator<WatchResponse> watch = HubGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                        .watch(WatchRequest.newBuilder().setAcceptParts(true).build());
                Set<String> seen = new HashSet<>();
                int parts = 0;
                long revision = -1;
                WatchResponse part;
                do {
                    part = watch.next();
                    parts++;
                    assertThat(part.getType()).isEqualTo(WatchResponse.Type.SNAPSHOT);
                    assertThat(part.getSerializedSize()).isLessThan(DEFAULT_MAX_MESSAGE);
                    if (revision == -1) {
                        revision = part.getRevision();
                    }
                    assertThat(part.getRevision()).isEqualTo(revision);
                    part.getInstancesList().forEach(i -> seen.add(i.getService() + "/" + i.getId()));
                } while (part.getMore());
                assertThat(seen).hasSize(INSTANCES);
                assertThat(parts).isGreaterThan(20);

                // a client older than parts gets the snapshot whole, as before (if it accepts a message that large)
                ManagedChannel large = ManagedChannelBuilder.forAddress("127.0.0.1", hub.port()).usePlaintext()
                        .maxInboundMessageSize(256 * 1024 * 1024).build();
                try {
                    WatchResponse whole = HubGrpc.newBlockingStub(large).withDeadlineAfter(60, TimeUnit.SECONDS)
                            .watch(WatchRequest.getDefaultInstance()).next();
                    assertThat(whole.getMore()).isFalse();
                    assertThat(whole.getInstancesCount()).isEqualTo(INSTANCES);
                } finally {
                    large.shutdownNow();
                }
            } finally {
                channel.shutdownNow();
                hub.close();
            }
        }
    }

    /* An instance with about the most metadata the hub accepts: 16 entries of some 506 bytes, just under 8 KiB. */
    private static Instance largest(String service, String id) {
        Instance.Builder instance = Instance.newBuilder().setService(service).setId(id).setHost("10.0.0.1").setPort(8080)
                .setVersion("1.0.0").setZone("zone-a").setWeight(100);
        for (int i = 0; i < 16; i++) {
            instance.putMetadata(String.format("key-%02d", i), "v".repeat(500));
        }
        return instance.build();
    }
}
