package io.switchboard.registry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.hub.HubServer;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.registry.Hubs.instance;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@Timeout(value = 60, unit = SECONDS)
class DiscoveryTest {
    private static final Duration TTL = Duration.ofSeconds(10);
    private static EtcdServer etcd;

    @BeforeAll
    static void start() {
        etcd = EtcdServer.start();
    }

    @AfterAll
    static void stop() {
        etcd.close();
    }

    @Test
    void endpointsFollowRegistrationsAndNotifyListeners() throws Exception {
        int port = FreePorts.next();
        HubServer hub = Hubs.start(etcd.endpoint(), port);
        try (RegistryClient registry = RegistryClient.create("127.0.0.1:" + port)) {
            ServiceEndpoints endpoints = registry.discovery().endpoints("listen");
            List<List<Instance>> seen = new CopyOnWriteArrayList<>();
            endpoints.subscribe(seen::add);
            await().atMost(Duration.ofSeconds(5)).until(endpoints::synced);
            assertThat(endpoints.instances()).isEmpty();

            Registration a = registry.register(instance("listen", "a", 9001), TTL);
            Registration b = registry.register(instance("listen", "b", 9002), TTL);
            await().atMost(Duration.ofSeconds(5)).until(() -> ids(endpoints).equals(List.of("a", "b")));
            a.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> ids(endpoints).equals(List.of("b")));
            assertThat(seen.get(seen.size() - 1)).extracting(Instance::getId).containsExactly("b");
            assertThat(registry.discovery().endpoints("listen")).isSameAs(endpoints);
            b.close();
        } finally {
            hub.close();
        }
    }

    @Test
    void keepsLastKnownEndpointsWhileTheHubIsDownAndResyncsAfterItsRestart() throws Exception {
        int watchedPort = FreePorts.next();
        int otherPort = FreePorts.next();
        HubServer watched = Hubs.start(etcd.endpoint(), watchedPort);
        HubServer other = Hubs.start(etcd.endpoint(), otherPort);
        try (RegistryClient watcher = RegistryClient.create("127.0.0.1:" + watchedPort);
             RegistryClient registrar = RegistryClient.create("127.0.0.1:" + otherPort)) {
            ServiceEndpoints endpoints = watcher.discovery().endpoints("resync");
            Registration one = registrar.register(instance("resync", "one", 9001), TTL);
            Registration two = registrar.register(instance("resync", "two", 9002), TTL);
            await().atMost(Duration.ofSeconds(5)).until(() -> ids(endpoints).equals(List.of("one", "two")));

            watched.close();
            // changes while the watcher's hub is gone
            one.close();
            Registration three = registrar.register(instance("resync", "three", 9003), TTL);
            await().atMost(Duration.ofSeconds(5)).until(three::healthy);
            Thread.sleep(1000);
            assertThat(ids(endpoints)).as("last known while the hub is down").containsExactly("one", "two");

            watched = Hubs.start(etcd.endpoint(), watchedPort);
            await().atMost(Duration.ofSeconds(10)).until(() -> ids(endpoints).equals(List.of("three", "two")));
            two.close();
            three.close();
        } finally {
            watched.close();
            other.close();
        }
    }

    @Test
    void roundRobinSpreadsCallsAndSkipsAnInstanceThatRefusesConnections() throws Exception {
        int port = FreePorts.next();
        HubServer hub = Hubs.start(etcd.endpoint(), port);
        try (RegistryClient registry = RegistryClient.create("127.0.0.1:" + port);
             Backend first = Backend.start(0);
             Backend second = Backend.start(0)) {
            Registration r1 = registry.register(instance("rr", "first", first.port), TTL);
            Registration r2 = registry.register(instance("rr", "second", second.port), TTL);
            ManagedChannel channel = registry.discovery().channel("rr", Balancing.ROUND_ROBIN);
            try {
                await().atMost(Duration.ofSeconds(5)).until(() -> registry.discovery().endpoints("rr").instances().size() == 2);
                call(channel, 10);
                first.calls.set(0);
                second.calls.set(0);
                call(channel, 100);
                assertThat(first.calls.get()).isBetween(40, 60);
                assertThat(second.calls.get()).isBetween(40, 60);

                // the first instance dies without deregistering: its lease is still alive, yet no call fails
                first.close();
                second.calls.set(0);
                assertThat(call(channel, 100)).isEqualTo(100);
                assertThat(second.calls.get()).isEqualTo(100);
            } finally {
                channel.shutdownNow();
                r1.close();
                r2.close();
            }
        } finally {
            hub.close();
        }
    }

    @Test
    void leastOutstandingSendsMoreCallsToTheFasterInstance() throws Exception {
        int port = FreePorts.next();
        HubServer hub = Hubs.start(etcd.endpoint(), port);
        try (RegistryClient registry = RegistryClient.create("127.0.0.1:" + port);
             Backend slow = Backend.start(100);
             Backend fast = Backend.start(0)) {
            Registration r1 = registry.register(instance("lor", "slow", slow.port), TTL);
            Registration r2 = registry.register(instance("lor", "fast", fast.port), TTL);
            ManagedChannel channel = registry.discovery().channel("lor", Balancing.LEAST_OUTSTANDING);
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                await().atMost(Duration.ofSeconds(5)).until(() -> registry.discovery().endpoints("lor").instances().size() == 2);
                call(channel, 4);
                slow.calls.set(0);
                fast.calls.set(0);
                List<CompletableFuture<Integer>> workers = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    workers.add(CompletableFuture.supplyAsync(() -> call(channel, 25), pool));
                }
                int ok = workers.stream().mapToInt(CompletableFuture::join).sum();
                assertThat(ok).isEqualTo(200);
                assertThat(fast.calls.get()).as("fast %d vs slow %d", fast.calls.get(), slow.calls.get())
                        .isGreaterThan(slow.calls.get() * 3);
            } finally {
                channel.shutdownNow();
                r1.close();
                r2.close();
            }
        } finally {
            hub.close();
        }
    }

    @Test
    void aServiceWithNoInstanceFailsFastWithUnavailable() throws Exception {
        int port = FreePorts.next();
        HubServer hub = Hubs.start(etcd.endpoint(), port);
        try (RegistryClient registry = RegistryClient.create("127.0.0.1:" + port)) {
            ManagedChannel channel = registry.discovery().channel("nobody", Balancing.ROUND_ROBIN);
            await().atMost(Duration.ofSeconds(5)).until(() -> registry.discovery().endpoints("nobody").synced());
            long start = System.nanoTime();
            assertThatThrownBy(() -> HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()))
                    .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAVAILABLE));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            channel.shutdownNow();
        } finally {
            hub.close();
        }
    }

    @Test
    void badHubEndpointsAreRejectedWithAClearMessage() {
        assertThatThrownBy(() -> RegistryClient.create("")).hasMessageContaining("hub.endpoints");
        assertThatThrownBy(() -> RegistryClient.create("localhost")).hasMessageContaining("host:port");
        assertThatThrownBy(() -> RegistryClient.create("localhost:99999")).hasMessageContaining("1..65535");
    }

    private static int call(ManagedChannel channel, int count) {
        int ok = 0;
        for (int i = 0; i < count; i++) {
            HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance());
            ok++;
        }
        return ok;
    }

    private static List<String> ids(ServiceEndpoints endpoints) {
        return endpoints.instances().stream().map(Instance::getId).toList();
    }
}
