package io.switchboard.it;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import io.switchboard.testkit.PostgresServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.it.Api.send;
import static io.switchboard.it.Components.ready;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Gray failures behind the gateway, all as real processes: an instance that freezes costs no request and no long wait.
 */
@Timeout(value = 180, unit = SECONDS)
class GrayFailureTest {
    @Test
    void aPostInstanceFrozenFor20SecondsCostsNoRequestAndNoneWaitsOver1500Ms() throws Exception {
        int hubPort = FreePorts.next();
        int userPort = FreePorts.next();
        int gatewayPort = FreePorts.next();
        int[] postPorts = {FreePorts.next(), FreePorts.next()};
        try (PostgresServer postgres = PostgresServer.start(); EtcdServer etcd = EtcdServer.start()) {
            // the default 10 s lease, as in production: the frozen instance stays registered for half the freeze
            Map<String, String> post = Map.of("DB_URL", postgres.createDatabase("posts"), "DB_USER", PostgresServer.USER,
                                              "REGISTRY_TTL", "10");
            List<JavaProcess> processes = new ArrayList<>();
            try {
                processes.add(Components.hub(etcd.endpoint(), hubPort));
                processes.add(Components.service("user", hubPort, userPort, Files.createTempDirectory("u-")));
                JavaProcess postA = Components.service("post", hubPort, postPorts[0], Files.createTempDirectory("p-"), post);
                processes.add(postA);
                processes.add(Components.service("post", hubPort, postPorts[1], Files.createTempDirectory("p-"), post));
                processes.add(Components.gateway(hubPort, gatewayPort, Map.of()));
                await().atMost(Duration.ofSeconds(40)).until(() -> ready(userPort) && ready(postPorts[0])
                                                                   && ready(postPorts[1]) && ready(gatewayPort));
                String token = Api.registerAndLogin(gatewayPort, "+4424000000");
                String id = Api.find(Api.ID, send(gatewayPort, "POST", "/post", "{\"title\":\"t\",\"content\":\"c\"}", token));

                TimedLoad load = TimedLoad.start(8, () -> send(gatewayPort, "GET", "/post/" + id, null, null).statusCode());
                load.awaitAnswers(400);
                postA.freeze();
                try {
                    // the scenario is a freeze of this length; the clients keep calling all along
                    Thread.sleep(20_000);
                } finally {
                    postA.thaw();
                }
                load.awaitAnswers(400);
                TimedLoad.Result result = load.finish();

                System.out.println("GET /post/{id} through the gateway, one of two instances frozen 20 s: " + result);
                assertThat(result.statuses().keySet()).containsOnly(200);
                assertThat(result.statuses().get(200)).isGreaterThan(1_000);
                assertThat(result.maxMillis()).as("longest request, ms").isLessThan(1_500);
            } finally {
                processes.forEach(JavaProcess::close);
            }
        }
    }

    /* Clients calling in a loop, counting answers by status (-1 for no answer) and keeping the longest request. */
    private record TimedLoad(AtomicBoolean stop, Map<Integer, AtomicInteger> statuses, AtomicLong maxNanos,
                             List<Thread> threads) {
        record Result(Map<Integer, Integer> statuses, long maxMillis) {
        }

        static TimedLoad start(int clients, java.util.function.IntSupplier call) {
            TimedLoad load = new TimedLoad(new AtomicBoolean(), new ConcurrentHashMap<>(), new AtomicLong(), new ArrayList<>());
            for (int i = 0; i < clients; i++) {
                load.threads.add(Thread.ofVirtual().start(() -> {
                    while (!load.stop.get()) {
                        long start = System.nanoTime();
                        int status;
                        try {
                            status = call.getAsInt();
                        } catch (RuntimeException e) {
                            status = -1;
                        }
                        load.maxNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                        load.statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
                    }
                }));
            }
            return load;
        }

        void awaitAnswers(int more) {
            int target = answered() + more;
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> answered() >= target);
        }

        private int answered() {
            return statuses.values().stream().mapToInt(AtomicInteger::get).sum();
        }

        Result finish() throws InterruptedException {
            stop.set(true);
            for (Thread thread : threads) {
                thread.join(15_000);
            }
            Map<Integer, Integer> result = new TreeMap<>();
            statuses.forEach((status, count) -> result.put(status, count.get()));
            return new Result(result, Duration.ofNanos(maxNanos.get()).toMillis());
        }
    }
}
