package io.switchboard.hub;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.grpc.Status;
import io.switchboard.api.hub.v1.GetServiceRequest;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.KeepAliveRequest;
import io.switchboard.api.hub.v1.LeaseStatus;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.api.hub.v1.WatchResponse;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.TcpProxy;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.DeleteOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.hub.HubFixture.instance;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@Timeout(value = 90, unit = SECONDS)
class HubEtcdOutageTest {

    @Test
    void readinessFollowsEtcdAndCallsFailCleanlyMeanwhile() throws Exception {
        try (EtcdServer etcd = EtcdServer.start(); HubFixture hub = HubFixture.start(etcd.endpoint())) {
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/observe/health/ready").statusCode() == 200);

            etcd.kill();
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/observe/health/ready").statusCode() == 503);
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/observe/health/ready").body().contains("unreachable"));
            assertThat(hub.get("/observe/health/live").statusCode()).isEqualTo(200);
            assertThatThrownBy(() -> hub.stub().register(RegisterRequest.newBuilder()
                                                                 .setInstance(instance("orders", "o-1", 9001))
                                                                 .setTtlSeconds(10).build()))
                    .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAVAILABLE));
            assertThat(hub.get("/observe/metrics").body()).containsPattern("switchboard_hub_etcd_errors_total\\S* [1-9]")
                    .containsPattern("switchboard_hub_etcd_up\\S* 0");

            etcd.restart();
            await().atMost(Duration.ofSeconds(15)).until(() -> hub.get("/observe/health/ready").statusCode() == 200);
            assertThat(hub.stub().register(RegisterRequest.newBuilder().setInstance(instance("orders", "o-1", 9001))
                                                   .setTtlSeconds(10).build()).getLeaseId()).isPositive();
        }
    }

    @Test
    void keepAliveOfManyLeasesInOneCallSurvivesAnEtcdRestartAndLetsUnrenewedLeasesExpire() throws Exception {
        try (EtcdServer etcd = EtcdServer.start(); HubFixture hub = HubFixture.start(etcd.endpoint())) {
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/observe/health/ready").statusCode() == 200);
            List<Long> leases = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                leases.add(hub.stub().register(RegisterRequest.newBuilder().setInstance(instance("orders", "o-" + i, 9001))
                                                       .setTtlSeconds(30).build()).getLeaseId());
            }
            long forgotten = hub.stub().register(RegisterRequest.newBuilder().setInstance(instance("orders", "left", 9002))
                                                          .setTtlSeconds(3).build()).getLeaseId();
            assertThat(renew(hub, leases)).as("alive before the outage").allMatch(LeaseStatus::getAlive);

            // the hub's lease stream to etcd breaks; the next renewal must open a new one by itself
            etcd.restart();
            await().atMost(Duration.ofSeconds(15)).ignoreExceptions()
                    .until(() -> renew(hub, leases).stream().allMatch(LeaseStatus::getAlive));
            // renewed only when asked: the lease nobody renews expires even though others share the stream, and
            // the renewed ones stay alive all along
            // (the forgotten lease is watched through its record: asking KeepAlive about it would renew it)
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(500)).until(() -> {
                assertThat(renew(hub, leases)).allMatch(LeaseStatus::getAlive);
                return hub.stub().getService(GetServiceRequest.newBuilder().setService("orders").build())
                        .getInstancesList().stream().noneMatch(i -> i.getId().equals("left"));
            });
            assertThat(renew(hub, List.of(forgotten))).noneMatch(LeaseStatus::getAlive);
        }
    }

    private static List<LeaseStatus> renew(HubFixture hub, List<Long> leases) {
        return hub.stub().keepAlive(KeepAliveRequest.newBuilder().addAllLeaseIds(leases).build()).getLeasesList();
    }

    @Test
    void hubStartedBeforeEtcdBecomesReadyWhenEtcdArrives() throws Exception {
        try (EtcdServer etcd = EtcdServer.start()) {
            etcd.kill();
            try (HubFixture hub = HubFixture.start(etcd.endpoint())) {
                assertThat(hub.get("/observe/health/live").statusCode()).isEqualTo(200);
                assertThat(hub.get("/observe/health/ready").statusCode()).isEqualTo(503);
                WatchRecorder watch = WatchRecorder.watch(hub.async, "orders");
                // no empty snapshot while the hub knows nothing: it would wipe what clients know
                assertThat(watch.poll(Duration.ofMillis(500))).isNull();

                etcd.restart();
                await().atMost(Duration.ofSeconds(15)).until(() -> hub.get("/observe/health/ready").statusCode() == 200);
                assertThat(watch.next(Duration.ofSeconds(5)).getType()).isEqualTo(WatchResponse.Type.SNAPSHOT);
                watch.close();
            }
        }
    }

    @Test
    void compactedWatchIsRebuiltAndSubscribersGetAFreshSnapshotWithRemovals() throws Exception {
        try (EtcdServer etcd = EtcdServer.start();
             TcpProxy proxy = TcpProxy.start("127.0.0.1", Integer.parseInt(etcd.endpoint().replaceAll(".*:", "")));
             HubFixture hub = HubFixture.start("http://127.0.0.1:" + proxy.port());
             Client direct = HubFixture.etcdClient(etcd.endpoint())) {
            hub.stub().register(RegisterRequest.newBuilder().setInstance(instance("orders", "stays", 9001))
                                        .setTtlSeconds(60).build());
            hub.stub().register(RegisterRequest.newBuilder().setInstance(instance("orders", "goes", 9002))
                                        .setTtlSeconds(60).build());
            // the view learns of a registration through its etcd watch, a moment after Register has answered
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.hub.instanceCount() == 2);
            try (WatchRecorder watch = WatchRecorder.watch(hub.async, "orders")) {
                assertThat(watch.next(Duration.ofSeconds(5)).getInstancesCount()).isEqualTo(2);

                // the hub loses etcd; meanwhile one instance goes, one comes, and etcd compacts that history away
                proxy.cut();
                await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/observe/health/ready").statusCode() == 503);
                direct.getKVClient().delete(EtcdStoreKeys.key("orders", "goes")).get();
                direct.getKVClient().put(EtcdStoreKeys.key("orders", "arrives"),
                                         io.etcd.jetcd.ByteSequence.from(
                                                 "{\"host\":\"127.0.0.1\",\"port\":9003}", UTF_8)).get();
                long revision = direct.getKVClient().put(EtcdStoreKeys.key("other", "x"),
                                                         io.etcd.jetcd.ByteSequence.from("{}", UTF_8))
                        .get().getHeader().getRevision();
                direct.getKVClient().compact(revision).get();
                proxy.restore();

                WatchResponse fresh = watch.next(Duration.ofSeconds(20));
                while (fresh.getType() != WatchResponse.Type.SNAPSHOT) {
                    fresh = watch.next(Duration.ofSeconds(20));
                }
                assertThat(fresh.getInstancesList()).extracting(Instance::getId).containsExactly("arrives", "stays");
                assertThat(fresh.getRevision()).isGreaterThanOrEqualTo(revision);
            }
            direct.getKVClient().delete(EtcdStoreKeys.key("", ""), DeleteOption.builder().isPrefix(true).build()).get();
        }
    }

    /** Keys as the hub writes them: the layout operators see with etcdctl (README). */
    private static final class EtcdStoreKeys {
        static io.etcd.jetcd.ByteSequence key(String service, String id) {
            String key = service.isEmpty() ? "/switchboard/" : "/switchboard/services/" + service + "/" + id;
            return io.etcd.jetcd.ByteSequence.from(key, UTF_8);
        }
    }
}
