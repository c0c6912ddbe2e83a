package io.switchboard.hub;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.hub.v1.DeregisterRequest;
import io.switchboard.api.hub.v1.GetServiceRequest;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.KeepAliveRequest;
import io.switchboard.api.hub.v1.KeepAliveResponse;
import io.switchboard.api.hub.v1.ListServicesRequest;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.api.hub.v1.RegisterResponse;
import io.switchboard.api.hub.v1.WatchResponse;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@Timeout(value = 60, unit = SECONDS)
class HubApiTest {
    @RegisterExtension
    static final Stack STACK = new Stack();
    private static HubFixture hub;
    private static Client etcdClient;

    @BeforeAll
    static void start() {
        hub = STACK.start(HubFixture.start(STACK.etcd().endpoint()));
        etcdClient = STACK.start(HubFixture.etcdClient(STACK.etcd().endpoint()));
    }

    @BeforeEach
    void clean() throws Exception {
        hub.clear(etcdClient);
    }

    @Test
    void registerWritesTheRecordUnderItsKeyAttachedToALeaseOfTheRequestedTtl() throws Exception {
        Instance instance = HubFixture.instance("orders", "orders-1", 9001);
        RegisterResponse response = hub.stub().register(RegisterRequest.newBuilder().setInstance(instance)
                                                                .setTtlSeconds(7).build());

        List<KeyValue> kvs = etcdClient.getKVClient().get(bytes("/switchboard/services/orders/orders-1")).get().getKvs();
        assertThat(kvs).hasSize(1);
        assertThat(kvs.get(0).getLease()).isEqualTo(response.getLeaseId());
        assertThat(kvs.get(0).getValue().toString(StandardCharsets.UTF_8)).contains("\"port\":9001");
        long granted = etcdClient.getLeaseClient().timeToLive(response.getLeaseId(), LeaseOption.DEFAULT).get()
                .getGrantedTTL();
        assertThat(granted).isEqualTo(7);

        // as registered, and with the revision etcd created the record at
        assertThat(hub.stub().getService(GetServiceRequest.newBuilder().setService("orders").build())
                           .getInstancesList())
                .containsExactly(instance.toBuilder().setRegisteredRevision(kvs.get(0).getCreateRevision()).build());
        assertThat(hub.stub().listServices(ListServicesRequest.getDefaultInstance()).getServicesList())
                .containsExactly("orders");
    }

    @Test
    void keepAliveRenewsKnownLeasesAndReportsUnknownOnesAsNotAlive() {
        long lease = register("orders", "orders-1", 5).getLeaseId();
        KeepAliveResponse response = hub.stub().keepAlive(KeepAliveRequest.newBuilder()
                                                                  .addLeaseIds(lease)
                                                                  .addLeaseIds(0x7fff_0000_1234L)
                                                                  .build());
        assertThat(response.getLeasesList()).hasSize(2);
        assertThat(response.getLeases(0).getAlive()).isTrue();
        assertThat(response.getLeases(0).getTtlSeconds()).isEqualTo(5);
        assertThat(response.getLeases(1).getAlive()).isFalse();
    }

    @Test
    void deregisterRemovesTheRecordAtOnceAndUnknownLeasesAreNotFound() throws Exception {
        long lease = register("orders", "orders-1", 30).getLeaseId();
        hub.stub().deregister(DeregisterRequest.newBuilder().setLeaseId(lease).build());
        assertThat(etcdClient.getKVClient().get(bytes("/switchboard/services/orders/orders-1")).get().getCount())
                .isZero();
        assertThatThrownBy(() -> hub.stub().deregister(DeregisterRequest.newBuilder().setLeaseId(lease).build()))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void anInstanceIdHeldByALiveLeaseIsNotTakenOverAndIsFreeOnceThatLeaseGoes() throws Exception {
        long first = register("orders", "orders-1", 30).getLeaseId();
        assertThatThrownBy(() -> register("orders", "orders-1", 30))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.ALREADY_EXISTS));
        List<KeyValue> kvs = etcdClient.getKVClient().get(bytes("/switchboard/services/orders/"),
                                                          GetOption.builder().isPrefix(true).build()).get().getKvs();
        assertThat(kvs).hasSize(1);
        assertThat(kvs.get(0).getLease()).isEqualTo(first);

        hub.stub().deregister(DeregisterRequest.newBuilder().setLeaseId(first).build());
        long second = register("orders", "orders-1", 30).getLeaseId();
        assertThat(etcdClient.getKVClient().get(bytes("/switchboard/services/orders/orders-1")).get().getKvs().get(0)
                           .getLease()).isEqualTo(second);
    }

    static Stream<Arguments> badRegistrations() {
        Instance good = HubFixture.instance("orders", "orders-1", 9001);
        return Stream.of(
                Arguments.of("empty service", good.toBuilder().setService("").build(), 10),
                Arguments.of("upper-case service", good.toBuilder().setService("Orders").build(), 10),
                Arguments.of("service with a slash", good.toBuilder().setService("a/b").build(), 10),
                Arguments.of("service of 64 chars", good.toBuilder().setService("a".repeat(64)).build(), 10),
                Arguments.of("path traversal in id", good.toBuilder().setId("../../etc").build(), 10),
                Arguments.of("empty id", good.toBuilder().setId("").build(), 10),
                Arguments.of("empty host", good.toBuilder().setHost("").build(), 10),
                Arguments.of("host with spaces", good.toBuilder().setHost("a b").build(), 10),
                Arguments.of("port 0", good.toBuilder().setPort(0).build(), 10),
                Arguments.of("port 65536", good.toBuilder().setPort(65536).build(), 10),
                Arguments.of("negative port", good.toBuilder().setPort(-1).build(), 10),
                Arguments.of("weight too big", good.toBuilder().setWeight(1001).build(), 10),
                Arguments.of("control character in version", good.toBuilder().setVersion("1\n2").build(), 10),
                Arguments.of("too many metadata entries", withMetadata(good, 33, 1), 10),
                Arguments.of("oversized metadata value", withMetadata(good, 1, 513), 10),
                Arguments.of("oversized metadata in all", withMetadata(good, 32, 500), 10),
                Arguments.of("metadata key with a space", good.toBuilder().putMetadata("a b", "x").build(), 10),
                Arguments.of("ttl 1", good, 1),
                Arguments.of("ttl 0", good, 0),
                Arguments.of("ttl 301", good, 301),
                Arguments.of("negative ttl", good, -5),
                Arguments.of("no instance at all", Instance.getDefaultInstance(), 10));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRegistrations")
    void badRegistrationsAreRejectedAndNothingIsWritten(String name, Instance instance, int ttl) throws Exception {
        int leasesBefore = STACK.etcd().leaseCount();
        assertThatThrownBy(() -> hub.stub().register(RegisterRequest.newBuilder().setInstance(instance)
                                                             .setTtlSeconds(ttl).build()))
                .isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> {
                    Status status = Status.fromThrowable(e);
                    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(status.getDescription()).isNotBlank();
                });
        assertThat(etcdClient.getKVClient().get(bytes("/switchboard/"), GetOption.builder().isPrefix(true).build())
                           .get().getCount()).isZero();
        assertThat(STACK.etcd().leaseCount()).isEqualTo(leasesBefore);
    }

    @Test
    void oversizedRequestIsRefusedWithoutTouchingEtcd() throws Exception {
        int leasesBefore = STACK.etcd().leaseCount();
        Instance huge = HubFixture.instance("orders", "orders-1", 9001).toBuilder()
                .putMetadata("blob", "x".repeat(8 * 1024 * 1024)).build();
        // Helidon 4.5 drops a message over its read buffer without answering: the caller's deadline ends the call
        assertThatThrownBy(() -> hub.blocking.withDeadlineAfter(2, SECONDS)
                .register(RegisterRequest.newBuilder().setInstance(huge).setTtlSeconds(10).build()))
                .isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(STACK.etcd().leaseCount()).isEqualTo(leasesBefore);
        // the hub is still fine
        assertThat(register("orders", "orders-2", 10).getLeaseId()).isPositive();
    }

    @Test
    void badLeaseAndServiceArgumentsAreRejected() {
        assertCode(() -> hub.stub().keepAlive(KeepAliveRequest.getDefaultInstance()), Status.Code.INVALID_ARGUMENT);
        assertCode(() -> hub.stub().keepAlive(KeepAliveRequest.newBuilder().addLeaseIds(-1).build()),
                   Status.Code.INVALID_ARGUMENT);
        KeepAliveRequest.Builder tooMany = KeepAliveRequest.newBuilder();
        for (long i = 1; i <= 1001; i++) {
            tooMany.addLeaseIds(i);
        }
        assertCode(() -> hub.stub().keepAlive(tooMany.build()), Status.Code.INVALID_ARGUMENT);
        assertCode(() -> hub.stub().deregister(DeregisterRequest.newBuilder().setLeaseId(0).build()),
                   Status.Code.INVALID_ARGUMENT);
        assertCode(() -> hub.stub().getService(GetServiceRequest.newBuilder().setService("../x").build()),
                   Status.Code.INVALID_ARGUMENT);
        WatchRecorder watch = WatchRecorder.watch(hub.async, "UPPER");
        await().atMost(Duration.ofSeconds(5)).until(() -> watch.end() != null);
        assertThat(watch.end().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void watchSendsASnapshotThenChangesInOrder() throws Exception {
        register("orders", "orders-1", 30);
        // the view learns of a registration through its etcd watch, a moment after Register has answered
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.hub.instanceCount() == 1);
        try (WatchRecorder watch = WatchRecorder.watch(hub.async, "orders")) {
            WatchResponse snapshot = watch.next(Duration.ofSeconds(5));
            assertThat(snapshot.getType()).isEqualTo(WatchResponse.Type.SNAPSHOT);
            assertThat(snapshot.getInstancesList()).extracting(Instance::getId).containsExactly("orders-1");

            long second = register("orders", "orders-2", 30).getLeaseId();
            register("payments", "payments-1", 30);
            hub.stub().deregister(DeregisterRequest.newBuilder().setLeaseId(second).build());

            WatchResponse put = watch.next(Duration.ofSeconds(5));
            assertThat(put.getType()).isEqualTo(WatchResponse.Type.PUT);
            assertThat(put.getInstances(0).getId()).isEqualTo("orders-2");
            assertThat(put.getRevision()).isGreaterThan(snapshot.getRevision());
            WatchResponse delete = watch.next(Duration.ofSeconds(5));
            assertThat(delete.getType()).isEqualTo(WatchResponse.Type.DELETE);
            assertThat(delete.getInstances(0).getId()).isEqualTo("orders-2");
            assertThat(delete.getRevision()).isGreaterThan(put.getRevision());
            // payments changes are not sent to an orders subscriber
            assertThat(watch.poll(Duration.ofMillis(300))).isNull();
        }
    }

    @Test
    void watchOfAllServicesSeesEveryService() throws Exception {
        register("inventory", "inventory-1", 30);
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.hub.instanceCount() == 1);
        try (WatchRecorder watch = WatchRecorder.watch(hub.async, "")) {
            assertThat(watch.next(Duration.ofSeconds(5)).getInstancesList()).extracting(Instance::getService)
                    .containsExactly("inventory");
            register("billing", "billing-1", 30);
            WatchResponse put = watch.next(Duration.ofSeconds(5));
            assertThat(put.getInstances(0).getService()).isEqualTo("billing");
        }
    }

    @Test
    void expiredLeaseDisappearsFromWatch() throws Exception {
        try (WatchRecorder watch = WatchRecorder.watch(hub.async, "orders")) {
            assertThat(watch.next(Duration.ofSeconds(5)).getInstancesList()).isEmpty();
            register("orders", "orders-1", 2);
            assertThat(watch.next(Duration.ofSeconds(5)).getType()).isEqualTo(WatchResponse.Type.PUT);
            WatchResponse gone = watch.next(Duration.ofSeconds(10));
            assertThat(gone.getType()).isEqualTo(WatchResponse.Type.DELETE);
        }
    }

    @Test
    void servesGrpcHealthReflectionAndObserveEndpoints() throws Exception {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(hub.channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

        java.util.concurrent.CompletableFuture<ServerReflectionResponse> reflection = new java.util.concurrent.CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(hub.channel).serverReflectionInfo(
                new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse value) {
                        reflection.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        reflection.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        assertThat(reflection.get(5, SECONDS).getListServicesResponse().getServiceList())
                .extracting(s -> s.getName()).contains("switchboard.hub.v1.Hub");
        requests.onCompleted();

        assertThat(hub.get("/observe/health/live").statusCode()).isEqualTo(200);
        assertThat(hub.get("/observe/health/ready").statusCode()).isEqualTo(200);
        register("orders", "orders-1", 30);
        String metrics = hub.get("/observe/metrics").body();
        assertThat(metrics).contains("switchboard_hub_registrations_total", "switchboard_hub_keepalives_total",
                                     "switchboard_hub_watches_open", "switchboard_hub_etcd_errors_total",
                                     "switchboard_hub_etcd_up");
        assertThat(hub.get("/no/such/path").statusCode()).isEqualTo(404);
    }

    private static RegisterResponse register(String service, String id, int ttl) {
        return hub.stub().register(RegisterRequest.newBuilder().setInstance(HubFixture.instance(service, id, 9001))
                                           .setTtlSeconds(ttl).build());
    }

    private static Instance withMetadata(Instance instance, int entries, int valueLength) {
        Instance.Builder builder = instance.toBuilder();
        for (int i = 0; i < entries; i++) {
            builder.putMetadata("k" + i, "v".repeat(valueLength));
        }
        return builder.build();
    }

    private static void assertCode(Runnable call, Status.Code code) {
        assertThatThrownBy(call::run).satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(code));
    }

    private static ByteSequence bytes(String key) {
        return ByteSequence.from(key, StandardCharsets.UTF_8);
    }
}
