package io.switchboard.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import io.switchboard.testkit.PostgresServer;
import io.switchboard.user.tokens.SigningKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.it.Api.send;
import static io.switchboard.it.Components.ready;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Instances die and arrive under load, behind the gateway, all as real processes: no request fails.
 */
@Timeout(value = 180, unit = SECONDS)
class GatewayFailoverTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void aKilledPostInstanceCostsNoRequestANewOneGetsTrafficSoonAfterItIsReadyAndNoHubIsNeededToServe() throws Exception {
        int hubPort = FreePorts.next();
        int userPort = FreePorts.next();
        int gatewayPort = FreePorts.next();
        int[] postPorts = {FreePorts.next(), FreePorts.next(), FreePorts.next()};
        try (PostgresServer postgres = PostgresServer.start(); EtcdServer etcd = EtcdServer.start()) {
            Map<String, String> shared = Map.of("DB_URL", postgres.createDatabase("posts"), "DB_USER", PostgresServer.USER);
            List<JavaProcess> processes = new ArrayList<>();
            try {
                processes.add(Components.hub(etcd.endpoint(), hubPort));
                processes.add(Components.service("user", hubPort, userPort, Files.createTempDirectory("u-")));
                JavaProcess postA = Components.service("post", hubPort, postPorts[0], Files.createTempDirectory("p-"), shared);
                processes.add(postA);
                processes.add(Components.service("post", hubPort, postPorts[1], Files.createTempDirectory("p-"), shared));
                processes.add(Components.gateway(hubPort, gatewayPort, Map.of()));
                await().atMost(Duration.ofSeconds(40)).until(() -> ready(userPort) && ready(postPorts[0])
                                                                   && ready(postPorts[1]) && ready(gatewayPort));
                String token = Api.registerAndLogin(gatewayPort, "+4422000000");
                String id = Api.find(Api.ID, send(gatewayPort, "POST", "/post", "{\"title\":\"t\",\"content\":\"c\"}", token));

                Load load = Load.start(4, () -> send(gatewayPort, "GET", "/post/" + id, null, null).statusCode());
                load.awaitAnswers(50);
                postA.kill();
                // through the failover: calls while the dead instance is still registered, then after its lease went
                load.awaitAnswers(50);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(
                        () -> send(hubPort, "GET", "/ui/api/services/post", null, null).body()
                                .matches("(?s).*\"instanceCount\":1[,}].*"));
                load.awaitAnswers(50);

                JavaProcess postC = Components.service("post", hubPort, postPorts[2], Files.createTempDirectory("p-"), shared);
                processes.add(postC);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> ready(postPorts[2]));
                long readyAt = System.nanoTime();
                // the gateway follows the hub's watch, not a refresh interval: milliseconds when idle, room for a loaded host
                await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                        .until(() -> getPostCalls(postPorts[2]) > 0);
                System.out.printf("new post instance served its first call %d ms after it was ready%n",
                                  Duration.ofNanos(System.nanoTime() - readyAt).toMillis());
                load.awaitAnswers(50);
                Map<Integer, Integer> statuses = load.finish();

                System.out.println("GET /post/{id} through the gateway while an instance was killed: " + statuses);
                assertThat(statuses.keySet()).containsOnly(200);
                assertThat(statuses.get(200)).isGreaterThan(100);

                // the hub and etcd go away: the gateway keeps serving from the instances it knows
                processes.get(0).kill();
                etcd.kill();
                for (int i = 0; i < 20; i++) {
                    assertThat(send(gatewayPort, "GET", "/post/" + id, null, null).statusCode()).isEqualTo(200);
                }
            } finally {
                processes.forEach(JavaProcess::close);
            }
        }
    }

    @Test
    void stoppingAUserInstanceCostsNoLogin() throws Exception {
        int hubPort = FreePorts.next();
        int gatewayPort = FreePorts.next();
        int[] userPorts = {FreePorts.next(), FreePorts.next()};
        try (PostgresServer postgres = PostgresServer.start(); EtcdServer etcd = EtcdServer.start()) {
            Map<String, String> shared = Map.of("DB_URL", postgres.createDatabase("users"), "DB_USER", PostgresServer.USER,
                                                "USER_SIGNING_KEY", SigningKeys.generate().toJSONString());
            List<JavaProcess> processes = new ArrayList<>();
            try {
                processes.add(Components.hub(etcd.endpoint(), hubPort));
                JavaProcess userA = Components.service("user", hubPort, userPorts[0], Files.createTempDirectory("u-"), shared);
                processes.add(userA);
                processes.add(Components.service("user", hubPort, userPorts[1], Files.createTempDirectory("u-"), shared));
                processes.add(Components.gateway(hubPort, gatewayPort, Map.of("GATEWAY_LOGIN_LIMIT_CAPACITY", "100000",
                                                                             "GATEWAY_LOGIN_LIMIT_PER_SECOND", "100000")));
                await().atMost(Duration.ofSeconds(40)).until(() -> ready(userPorts[0]) && ready(userPorts[1])
                                                                   && ready(gatewayPort));
                Api.registerAndLogin(gatewayPort, "+4423000000");

                String credentials = Api.credentials("+4423000000");
                Load load = Load.start(2, () -> send(gatewayPort, "POST", "/user/login", credentials, null).statusCode());
                load.awaitAnswers(10);
                userA.terminate();
                assertThat(userA.waitFor(Duration.ofSeconds(15))).isZero();
                load.awaitAnswers(20);
                Map<Integer, Integer> statuses = load.finish();

                System.out.println("POST /user/login through the gateway while an instance stopped: " + statuses);
                assertThat(statuses.keySet()).containsOnly(200);
                assertThat(statuses.get(200)).isGreaterThan(20);
            } finally {
                processes.forEach(JavaProcess::close);
            }
        }
    }

    private static long getPostCalls(int port) {
        try {
            String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/observe/metrics"))
                                               .build(), HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = Pattern.compile("switchboard_rpc_server_calls_total\\{[^}]*GetPost[^}]*\\} ([0-9.]+)").matcher(metrics);
            return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
        } catch (Exception e) {
            return 0;
        }
    }

    /* Clients calling in a loop, counting answers by status (-1 for a request that got no answer). */
    private record Load(AtomicBoolean stop, Map<Integer, AtomicInteger> statuses, List<Thread> threads) {
        static Load start(int clients, java.util.function.IntSupplier call) {
            Load load = new Load(new AtomicBoolean(), new ConcurrentHashMap<>(), new ArrayList<>());
            for (int i = 0; i < clients; i++) {
                load.threads.add(Thread.ofVirtual().start(() -> {
                    while (!load.stop.get()) {
                        int status;
                        try {
                            status = call.getAsInt();
                        } catch (RuntimeException e) {
                            status = -1;
                        }
                        load.statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
                    }
                }));
            }
            return load;
        }

        /** Waits until the clients got this many more answers (of any status), however long a loaded host takes. */
        void awaitAnswers(int more) {
            int target = answered() + more;
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> answered() >= target);
        }

        private int answered() {
            return statuses.values().stream().mapToInt(AtomicInteger::get).sum();
        }

        Map<Integer, Integer> finish() throws InterruptedException {
            stop.set(true);
            for (Thread thread : threads) {
                thread.join(15_000);
            }
            Map<Integer, Integer> result = new java.util.TreeMap<>();
            statuses.forEach((status, count) -> result.put(status, count.get()));
            return result;
        }
    }
}
