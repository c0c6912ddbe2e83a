package io.switchboard.it;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

    @Test
    void aKilledPostInstanceCostsNoRequestANewOneGetsTrafficSoonAfterItIsReadyAndNoHubIsNeededToServe() throws Exception {
        try (PostgresServer postgres = PostgresServer.start(); EtcdServer etcd = EtcdServer.start();
             TwoPosts stack = TwoPosts.start(etcd, postgres, Map.of(), "+4422000000")) {
            int gatewayPort = stack.gatewayPort;
            ClosedLoop load = ClosedLoop.start(4, () -> send(gatewayPort, "GET", "/post/" + stack.postId, null, null)
                    .statusCode()).onFirstFailure(stack::gatewaySnapshot);
            load.awaitAnswers(50);
            stack.postA.kill();
            // through the failover: calls while the dead instance is still registered, then after its lease went
            load.awaitAnswers(50);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(
                    () -> send(stack.hubPort, "GET", "/ui/api/services/post", null, null).body()
                            .matches("(?s).*\"instanceCount\":1[,}].*"));
            load.awaitAnswers(50);

            int postCPort = FreePorts.next();
            stack.post(postCPort);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> ready(postCPort));
            long readyAt = System.nanoTime();
            // the gateway follows the hub's watch, not a refresh interval: milliseconds when idle, room for a loaded host
            await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                    .until(() -> getPostCalls(postCPort) > 0);
            System.out.printf("new post instance served its first call %d ms after it was ready%n",
                              Duration.ofNanos(System.nanoTime() - readyAt).toMillis());
            load.awaitAnswers(50);
            ClosedLoop.Result result = load.finish();
            Map<Integer, Integer> statuses = result.statuses();

            System.out.println("GET /post/{id} through the gateway while an instance was killed: " + statuses);
            assertThat(statuses.keySet()).as("failures: %s", result.failures()).containsOnly(200);
            assertThat(statuses.get(200)).isGreaterThan(100);

            // the hub and etcd go away: the gateway keeps serving from the instances it knows
            stack.hub.kill();
            etcd.kill();
            for (int i = 0; i < 20; i++) {
                assertThat(send(gatewayPort, "GET", "/post/" + stack.postId, null, null).statusCode()).isEqualTo(200);
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
                ClosedLoop load = ClosedLoop.start(2, () -> send(gatewayPort, "POST", "/user/login", credentials, null)
                        .statusCode());
                load.awaitAnswers(10);
                userA.terminate();
                assertThat(userA.waitFor(Duration.ofSeconds(15))).isZero();
                load.awaitAnswers(20);
                ClosedLoop.Result result = load.finish();
                Map<Integer, Integer> statuses = result.statuses();

                System.out.println("POST /user/login through the gateway while an instance stopped: " + statuses);
                assertThat(statuses.keySet()).as("failures: %s", result.failures()).containsOnly(200);
                assertThat(statuses.get(200)).isGreaterThan(20);
            } finally {
                processes.forEach(JavaProcess::close);
            }
        }
    }

    private static long getPostCalls(int port) {
        try {
            String metrics = Components.HTTP.send(HttpRequest.newBuilder(Components.url(port, "/observe/metrics"))
                                               .build(), HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = Pattern.compile("switchboard_rpc_server_calls_total\\{[^}]*GetPost[^}]*\\} ([0-9.]+)").matcher(metrics);
            return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
        } catch (Exception e) {
            return 0;
        }
    }
}
