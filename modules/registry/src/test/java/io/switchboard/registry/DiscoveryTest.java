package io.switchboard.registry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.health.HealthCheckResponse;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.post.v1.ListPostsRequest;
import io.switchboard.api.post.v1.ListPostsResponse;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.registry.client.RegistryClient;
import io.switchboard.schema.ApiSchemas;
import io.switchboard.server.ReadinessCheck;
import io.switchboard.server.Servers;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@Timeout(value = 60, unit = SECONDS)
class DiscoveryTest {
    private static final Duration TTL = Duration.ofSeconds(10);
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void endpointsFollowRegistrationsAndNotifyListeners() throws Exception {
        try (SingleHub hub = SingleHub.start(STACK.etcd().endpoint())) {
            RegistryClient registry = hub.registry;
            ServiceEndpoints endpoints = registry.discovery().endpoints("listen");
            List<List<Instance>> seen = new CopyOnWriteArrayList<>();
            endpoints.subscribe(seen::add);
            await().atMost(Duration.ofSeconds(5)).until(endpoints::synced);
            assertThat(endpoints.instances()).isEmpty();

            Registration a = hub.register("listen", "a", 9001, TTL);
            hub.register("listen", "b", 9002, TTL);
            await().atMost(Duration.ofSeconds(5)).until(() -> ids(endpoints).equals(List.of("a", "b")));
            a.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> ids(endpoints).equals(List.of("b")));
            assertThat(seen.get(seen.size() - 1)).extracting(Instance::getId).containsExactly("b");
            assertThat(registry.discovery().endpoints("listen")).isSameAs(endpoints);
        }
    }

    @Test
    void keepsLastKnownEndpointsWhileTheHubIsDownAndResyncsAfterItsRestart() throws Exception {
        try (SingleHub watched = SingleHub.start(STACK.etcd().endpoint());
             SingleHub other = SingleHub.start(STACK.etcd().endpoint())) {
            ServiceEndpoints endpoints = watched.registry.discovery().endpoints("resync");
            Registration one = other.register("resync", "one", 9001, TTL);
            other.register("resync", "two", 9002, TTL);
            await().atMost(Duration.ofSeconds(5)).until(() -> ids(endpoints).equals(List.of("one", "two")));

            watched.stopHub();
            // changes while the watcher's hub is gone
            one.close();
            other.registerHealthy("resync", "three", 9003, TTL);
            // the last known instances, all the while the hub is down
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                    .until(() -> ids(endpoints).equals(List.of("one", "two")));

            watched.startHub();
            await().atMost(Duration.ofSeconds(10)).until(() -> ids(endpoints).equals(List.of("three", "two")));
        }
    }

    @Test
    void roundRobinSpreadsCallsAndSkipsAnInstanceThatRefusesConnections() throws Exception {
        try (SingleHub hub = SingleHub.start(STACK.etcd().endpoint());
             Backend first = Backend.start(0);
             Backend second = Backend.start(0)) {
            ManagedChannel channel = channelTo(hub, "rr", Balancing.ROUND_ROBIN, Set.of(HealthGrpc.SERVICE_NAME),
                                               first, second);
            try {
                call(channel, 10);
                first.calls.set(0);
                second.calls.set(0);
                call(channel, 100);
                assertThat(first.calls.get()).isBetween(40, 60);
                assertThat(second.calls.get()).isBetween(40, 60);

                // the first instance dies without deregistering, with calls in flight: its lease is still alive,
                // yet no call fails (idempotent calls cut by the death are retried on the other instance)
                try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                    List<CompletableFuture<Integer>> workers = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        workers.add(CompletableFuture.supplyAsync(() -> call(channel, 200), pool));
                    }
                    Thread.sleep(50);
                    first.close();
                    assertThat(workers.stream().mapToInt(CompletableFuture::join).sum()).isEqualTo(800);
                }
                second.calls.set(0);
                assertThat(call(channel, 100)).isEqualTo(100);
                assertThat(second.calls.get()).isEqualTo(100);
            } finally {
                channel.shutdownNow();
            }
        }
    }

    @Test
    void leastOutstandingSendsMoreCallsToTheFasterInstance() throws Exception {
        try (SingleHub hub = SingleHub.start(STACK.etcd().endpoint());
             Backend slow = Backend.start(100);
             Backend fast = Backend.start(0)) {
            ManagedChannel channel = channelTo(hub, "lor", Balancing.LEAST_OUTSTANDING, Set.of(), slow, fast);
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
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
            }
        }
    }

    @Test
    void manyLargeAnswersInFlightFromAHelidonServerAllArrive() throws Exception {
        // 64 answers of 128 KiB at once: far past HTTP/2's default 64 KiB window. A Helidon 4.5 server wakes one
        // waiting stream per WINDOW_UPDATE and lets the others sleep 50 ms, 100 ms, ... up to seconds, so with a
        // small client window these calls ran into their deadline
        ListPostsResponse page = ListPostsResponse.newBuilder()
                .addAllPosts(Collections.nCopies(32, Post.newBuilder().setContent("x".repeat(4096)).build()))
                .build();
        WebServer backend = Servers.builder(Config.just(ConfigSources.create(Map.of("port", "0"))),
                                            ReadinessCheck.of("ready", () -> HealthCheckResponse.builder().status(true).build()))
                .addRouting(GrpcRouting.builder().service(new PostServiceGrpc.PostServiceImplBase() {
                    @Override
                    public void listPosts(ListPostsRequest request, StreamObserver<ListPostsResponse> answers) {
                        answers.onNext(page);
                        answers.onCompleted();
                    }
                }))
                .build()
                .start();
        try (SingleHub hub = SingleHub.start(STACK.etcd().endpoint())) {
            hub.register("large", "large-0", backend.port(), TTL);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> hub.registry.discovery().endpoints("large").instances().size() == 1);
            ManagedChannel channel = hub.registry.discovery().channel("large", Balancing.ROUND_ROBIN);
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                PostServiceGrpc.PostServiceBlockingStub stub = PostServiceGrpc.newBlockingStub(channel);
                List<CompletableFuture<Integer>> calls = new ArrayList<>();
                for (int round = 0; round < 3; round++) {
                    for (int i = 0; i < 64; i++) {
                        calls.add(CompletableFuture.supplyAsync(
                                () -> stub.withDeadlineAfter(3, SECONDS).listPosts(ListPostsRequest.getDefaultInstance())
                                        .getPostsCount(), pool));
                    }
                    for (CompletableFuture<Integer> call : calls) {
                        assertThat(call.join()).isEqualTo(32);
                    }
                    calls.clear();
                }
            } finally {
                channel.shutdownNow();
            }
        } finally {
            backend.stop();
        }
    }

    @Test
    void aServiceWithNoInstanceFailsFastWithUnavailable() throws Exception {
        try (SingleHub hub = SingleHub.start(STACK.etcd().endpoint())) {
            RegistryClient registry = hub.registry;
            ManagedChannel channel = registry.discovery().channel("nobody", Balancing.ROUND_ROBIN);
            await().atMost(Duration.ofSeconds(5)).until(() -> registry.discovery().endpoints("nobody").synced());
            long start = System.nanoTime();
            assertThatThrownBy(() -> HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()))
                    .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAVAILABLE));
            // at once, not after the call's 5 s deadline (half of it leaves room for a loaded machine)
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2500));
            channel.shutdownNow();
        }
    }

    @Test
    void allServicesFollowsEveryServiceAndAFilteredChannelCallsOnlyTheInstancesItTakes() throws Exception {
        try (SingleHub hub = SingleHub.start(STACK.etcd().endpoint());
             Backend old = Backend.start(0);
             Backend fresh = Backend.start(0)) {
            ServiceEndpoints all = hub.registry.discovery().allServices();
            assertThat(hub.registry.discovery().allServices()).isSameAs(all);
            await().atMost(Duration.ofSeconds(5)).until(all::synced);
            ApiSchema schema = ApiSchemas.of(List.of(PostServiceGrpc.getServiceDescriptor()));
            Registration first = hub.registry.register(Hubs.instance("all-a", "a-1", old.port), TTL);
            // registered before the others, so that its record's revision is the lowest
            await().atMost(Duration.ofSeconds(5)).until(first::healthy);
            hub.registry.register(Hubs.instance("all-a", "a-2", fresh.port).toBuilder().setVersion("2").build(), schema,
                                  TTL);
            hub.register("all-b", "b-1", 9003, TTL);
            await().atMost(Duration.ofSeconds(5)).until(() -> all.instances().stream()
                    .filter(i -> i.getService().startsWith("all-")).count() == 3);
            // sorted by service, then id, and each instance says when it registered
            List<Instance> ours = all.instances().stream().filter(i -> i.getService().startsWith("all-")).toList();
            assertThat(ours).extracting(i -> i.getService() + "/" + i.getId())
                    .containsExactly("all-a/a-1", "all-a/a-2", "all-b/b-1");
            assertThat(ours).allSatisfy(i -> assertThat(i.getRegisteredRevision()).isPositive());
            assertThat(ours.get(0).getRegisteredRevision()).isLessThan(ours.get(2).getRegisteredRevision());

            // the schema the second instance names, fetched through the hub and checked against its id
            String schemaId = ours.get(1).getSchemaId();
            assertThat(hub.registry.discovery().schema(schemaId)).isEqualTo(schema);
            assertThatThrownBy(() -> hub.registry.discovery().schema(ApiSchemas.idOf(new byte[] {1})))
                    .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND));

            ManagedChannel channel = hub.registry.discovery().channel("all-a", i -> i.getVersion().equals("2"),
                                                                      Balancing.ROUND_ROBIN, Set.of(), CallPolicy.DEFAULT);
            try {
                assertThat(call(channel, 20)).isEqualTo(20);
                assertThat(fresh.calls.get()).isEqualTo(20);
                assertThat(old.calls.get()).isZero();
                // a channel whose filter takes no live instance fails at once
                first.close();
                ManagedChannel none = hub.registry.discovery().channel("all-a", i -> i.getVersion().equals("1"),
                                                                       Balancing.ROUND_ROBIN, Set.of(), CallPolicy.DEFAULT);
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> all.instances().stream().noneMatch(i -> i.getId().equals("a-1")));
                assertThatThrownBy(() -> call(none, 1))
                        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAVAILABLE));
                none.shutdownNow();
            } finally {
                channel.shutdownNow();
            }
        }
    }

    @Test
    void badHubEndpointsAreRejectedWithAClearMessage() {
        assertThatThrownBy(() -> RegistryClient.create("")).hasMessageContaining("hub.endpoints");
        assertThatThrownBy(() -> RegistryClient.create("localhost")).hasMessageContaining("host:port");
        assertThatThrownBy(() -> RegistryClient.create("localhost:99999")).hasMessageContaining("1..65535");
    }

    /** Registers each backend as an instance of the service and returns a channel once both are discovered. */
    private static ManagedChannel channelTo(SingleHub hub, String service, Balancing balancing, Set<String> idempotent,
                                            Backend... backends) {
        for (int i = 0; i < backends.length; i++) {
            hub.register(service, service + "-" + i, backends[i].port, TTL);
        }
        await().atMost(Duration.ofSeconds(5))
                .until(() -> hub.registry.discovery().endpoints(service).instances().size() == backends.length);
        return hub.registry.discovery().channel(service, balancing, idempotent);
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
