package io.switchboard.hub;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.helidon.metrics.api.Metrics;
import io.switchboard.api.hub.v1.DeregisterRequest;
import io.switchboard.api.hub.v1.GetServiceRequest;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.KeepAliveRequest;
import io.switchboard.api.hub.v1.ListServicesRequest;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.api.hub.v1.WatchRequest;
import io.switchboard.hub.etcd.EtcdStore;
import io.switchboard.hub.view.InstanceView;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The hub's API over grpc-java's in-process transport, on a store whose etcd never answers: invalid input must be
 * answered with INVALID_ARGUMENT before etcd is touched, well within the store's 3 s timeout.
 */
@Timeout(30)
class HubServiceUnitTest {
    /* Below the store's 3 s timeout: a call that reached etcd would end DEADLINE_EXCEEDED or UNAVAILABLE instead. */
    private static final Duration FAST = Duration.ofMillis(1500);

    private static EtcdStore store;
    private static InstanceView view;
    private static Server server;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() throws Exception {
        store = EtcdStore.connect("http://127.0.0.1:1");
        view = InstanceView.start(store, 16);
        HubService service = new HubService(store, view, new HubMetrics(Metrics.globalRegistry()), 4, false,
                                            new WatchLimits(64, 16), new RegistrationLimits(10_000, 1_000));
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(service).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        view.close();
        store.close();
    }

    static Stream<Arguments> invalidRegistrations() {
        Instance valid = InstanceRulesUnitTest.VALID;
        Map<String, String> tooMany = new LinkedHashMap<>();
        for (int i = 0; i < 33; i++) {
            tooMany.put("k" + i, "v");
        }
        return Stream.of(
                Arguments.of("no instance", RegisterRequest.newBuilder().setTtlSeconds(10).build(), "service name"),
                Arguments.of("empty service", register(valid.toBuilder().setService(""), 10), "service name"),
                Arguments.of("upper-case service", register(valid.toBuilder().setService("Orders"), 10), "service name"),
                Arguments.of("64-character service", register(valid.toBuilder().setService("s".repeat(64)), 10),
                             "service name"),
                Arguments.of("empty id", register(valid.toBuilder().setId(""), 10), "instance id"),
                Arguments.of("129-character id", register(valid.toBuilder().setId("i".repeat(129)), 10), "instance id"),
                Arguments.of("id with a slash", register(valid.toBuilder().setId("../x"), 10), "instance id"),
                Arguments.of("empty host", register(valid.toBuilder().setHost(""), 10), "host"),
                Arguments.of("254-character host", register(valid.toBuilder().setHost("h".repeat(254)), 10), "host"),
                Arguments.of("host with a path", register(valid.toBuilder().setHost("a/b"), 10), "host"),
                Arguments.of("port 0", register(valid.toBuilder().setPort(0), 10), "port"),
                Arguments.of("port 65536", register(valid.toBuilder().setPort(65536), 10), "port"),
                Arguments.of("negative port", register(valid.toBuilder().setPort(-1), 10), "port"),
                Arguments.of("65-character version", register(valid.toBuilder().setVersion("v".repeat(65)), 10),
                             "version"),
                Arguments.of("version with a newline", register(valid.toBuilder().setVersion("1\n2"), 10), "version"),
                Arguments.of("65-character zone", register(valid.toBuilder().setZone("z".repeat(65)), 10), "zone"),
                Arguments.of("zone with a NUL", register(valid.toBuilder().setZone("a\u0000"), 10), "zone"),
                Arguments.of("weight -1", register(valid.toBuilder().setWeight(-1), 10), "weight"),
                Arguments.of("weight 1001", register(valid.toBuilder().setWeight(1001), 10), "weight"),
                Arguments.of("33 metadata entries", register(valid.toBuilder().putAllMetadata(tooMany), 10), "metadata"),
                Arguments.of("empty metadata key", register(valid.toBuilder().putMetadata("", "v"), 10), "metadata key"),
                Arguments.of("513-character metadata value",
                             register(valid.toBuilder().putMetadata("k", "v".repeat(513)), 10), "metadata value"),
                Arguments.of("ttl 0", register(valid.toBuilder(), 0), "ttl_seconds"),
                Arguments.of("ttl 1", register(valid.toBuilder(), 1), "ttl_seconds"),
                Arguments.of("ttl 301", register(valid.toBuilder(), 301), "ttl_seconds"),
                Arguments.of("negative ttl", register(valid.toBuilder(), -10), "ttl_seconds"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidRegistrations")
    void registerAnswersInvalidArgumentNamingTheFieldWithoutTouchingEtcd(String what, RegisterRequest request,
                                                                          String field) {
        invalidFast(() -> hub().register(request), field);
    }

    @Test
    void keepAliveNeedsOneToAThousandDistinctLeases() {
        invalidFast(() -> hub().keepAlive(KeepAliveRequest.getDefaultInstance()), "lease_ids must hold 1..1000");
        KeepAliveRequest tooMany = KeepAliveRequest.newBuilder()
                .addAllLeaseIds(LongStream.rangeClosed(1, 1001).boxed().toList())
                .build();
        invalidFast(() -> hub().keepAlive(tooMany), "lease_ids must hold 1..1000 distinct lease ids, got 1001");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void keepAliveRefusesABatchWithOneLeaseIdThatIsNotPositive(long lease) {
        KeepAliveRequest request = KeepAliveRequest.newBuilder().addLeaseIds(5).addLeaseIds(lease).addLeaseIds(6).build();

        invalidFast(() -> hub().keepAlive(request), "lease_id must be a positive lease id, got " + lease);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void deregisterRefusesALeaseIdThatIsNotPositive(long lease) {
        invalidFast(() -> hub().deregister(DeregisterRequest.newBuilder().setLeaseId(lease).build()), "lease_id");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Orders", "or_ders", "a/b", "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss"})
    void getServiceRefusesAnInvalidServiceName(String service) {
        invalidFast(() -> hub().getService(GetServiceRequest.newBuilder().setService(service).build()), "service name");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Orders", "or_ders", "a/b", "x\n", "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss"})
    void watchRefusesAnInvalidServiceNameBeforeSubscribing(String service) {
        int before = view.subscriberCount();

        invalidFast(() -> hub().watch(WatchRequest.newBuilder().setService(service).build()).hasNext(), "service name");
        assertThat(view.subscriberCount()).isEqualTo(before);
    }

    @Test
    void requestsAtEveryLimitPassValidationAndReachTheStore() throws Exception {
        // the counterpart of the tests above: the limits themselves are accepted, and the calls go on to etcd,
        // which never answers here, so they all end UNAVAILABLE (sent together: one store timeout for all)
        HubGrpc.HubFutureStub stub = HubGrpc.newFutureStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
        List<Future<?>> calls = new ArrayList<>();
        calls.add(stub.register(register(InstanceRulesUnitTest.atLimits().toBuilder(), InstanceRules.MAX_TTL)));
        calls.add(stub.register(register(InstanceRulesUnitTest.VALID.toBuilder().setPort(1).setWeight(0),
                                         InstanceRules.MIN_TTL)));
        calls.add(stub.keepAlive(KeepAliveRequest.newBuilder()
                                         .addAllLeaseIds(LongStream.rangeClosed(1, 1000).boxed().toList())
                                         .addLeaseIds(1000)
                                         .build()));
        calls.add(stub.deregister(DeregisterRequest.newBuilder().setLeaseId(Long.MAX_VALUE).build()));
        calls.add(stub.getService(GetServiceRequest.newBuilder().setService("s".repeat(63)).build()));
        calls.add(stub.listServices(ListServicesRequest.getDefaultInstance()));

        for (Future<?> call : calls) {
            assertThatThrownBy(() -> call.get(25, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .extracting(e -> Status.fromThrowable(e.getCause()).getCode())
                    .isEqualTo(Status.Code.UNAVAILABLE);
        }
    }

    private static HubGrpc.HubBlockingStub hub() {
        return HubGrpc.newBlockingStub(channel).withDeadlineAfter(FAST.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static RegisterRequest register(Instance.Builder instance, int ttlSeconds) {
        return RegisterRequest.newBuilder().setInstance(instance).setTtlSeconds(ttlSeconds).build();
    }

    private static void invalidFast(ThrowingCallable call, String fragment) {
        long start = System.nanoTime();
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains(fragment);
        });
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(FAST);
    }
}
