package io.switchboard.hub;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.ListServicesRequest;
import io.switchboard.api.hub.v1.WatchResponse;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Watch streams a client can make the hub hold: a few per connection, a bound in all, each place given back when its
 * stream ends; a flood of them from one client leaves the hub serving.
 */
@Timeout(value = 60, unit = SECONDS)
class HubWatchLimitsTest {
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void watchesBeyondTheConnectionsShareOrTheHubsBoundAreRefusedAndAnEndedOneGivesItsPlaceBack() throws Exception {
        try (HubFixture hub = HubFixture.start(STACK.etcd().endpoint(), Map.of("hub.max-watches", "5",
                                                                               "hub.max-watches-per-connection", "3"))) {
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/observe/health/ready").statusCode() == 200);
            List<WatchRecorder> open = new ArrayList<>();
            ManagedChannel second = ManagedChannelBuilder.forAddress("127.0.0.1", hub.hub.port()).usePlaintext().build();
            try {
                for (int i = 0; i < 3; i++) {
                    open.add(admitted(hub.async));
                }
                WatchRecorder fourth = WatchRecorder.watch(hub.async, "");
                assertThat(ended(fourth)).as("the connection's fourth").isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

                HubGrpc.HubStub other = HubGrpc.newStub(second);
                open.add(admitted(other));
                open.add(admitted(other));
                WatchRecorder sixth = WatchRecorder.watch(other, "");
                assertThat(ended(sixth)).as("the hub's sixth").isEqualTo(Status.Code.UNAVAILABLE);

                // a stream that ends gives its place back
                open.removeFirst().close();
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                    WatchRecorder again = WatchRecorder.watch(hub.async, "");
                    open.add(again);
                    assertThat(again.next(Duration.ofSeconds(2)).getType()).isEqualTo(WatchResponse.Type.SNAPSHOT);
                    assertThat(again.end()).isNull();
                });
                String metrics = hub.get("/observe/metrics").body();
                assertThat(metrics).containsPattern("switchboard_hub_refused_calls_total\\{[^}]*reason=\"watch-limit\"[^}]*} [1-9]");
            } finally {
                open.forEach(WatchRecorder::close);
                second.shutdownNow();
            }
        }
    }

    @Test
    void aThousandWatchesFromOneClientTakeTheirShareAndTheHubKeepsServing() throws Exception {
        try (HubFixture hub = HubFixture.start(STACK.etcd().endpoint(), Map.of())) {
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/observe/health/ready").statusCode() == 200);
            List<WatchRecorder> flood = new ArrayList<>();
            try {
                for (int i = 0; i < 1_000; i++) {
                    flood.add(WatchRecorder.watch(hub.async, ""));
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> flood.stream().filter(w -> w.end() != null).count()
                                                                     >= 1_000 - 256);
                assertThat(flood.stream().filter(w -> w.end() != null).map(w -> w.end().getCode()).distinct())
                        .containsOnly(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(flood.stream().filter(w -> w.end() == null).count()).as("admitted").isEqualTo(256);
                // the hub still answers, on that connection and on others
                assertThat(hub.blocking.listServices(ListServicesRequest.getDefaultInstance())).isNotNull();
                assertThat(hub.get("/observe/health/ready").statusCode()).isEqualTo(200);
            } finally {
                flood.forEach(WatchRecorder::close);
            }
        }
    }

    private static WatchRecorder admitted(HubGrpc.HubStub stub) throws InterruptedException {
        WatchRecorder watch = WatchRecorder.watch(stub, "");
        // an admitted stream gets the registry's snapshot first
        watch.next(Duration.ofSeconds(5));
        assertThat(watch.end()).isNull();
        return watch;
    }

    private static Status.Code ended(WatchRecorder watch) {
        await().atMost(Duration.ofSeconds(5)).until(() -> watch.end() != null);
        return watch.end().getCode();
    }
}
