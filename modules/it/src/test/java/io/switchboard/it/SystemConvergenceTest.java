package io.switchboard.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.it.Api.send;
import static io.switchboard.it.Components.ready;
import static io.switchboard.it.Components.status;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The components really are independent: started in an unfriendly order they converge to a serving system, and
 * restarting any one of them, etcd included, ends with the system serving again without touching the others.
 */
@Timeout(value = 240, unit = SECONDS)
class SystemConvergenceTest {
    private static final Duration CONVERGE = Duration.ofSeconds(30);

    private final int hubPort = FreePorts.next();
    private final int userPort = FreePorts.next();
    private final int postPort = FreePorts.next();
    private final int gatewayPort = FreePorts.next();
    private final Map<String, JavaProcess> running = new HashMap<>();
    private final Map<String, Supplier<JavaProcess>> launchers = new HashMap<>();

    @Test
    void gatewayUserHubEtcdPostInThatOrderConvergeAndAnyOneRestartedRecovers() throws Exception {
        Path userData = Files.createTempDirectory("conv-user-");
        Path postData = Files.createTempDirectory("conv-post-");
        try (EtcdServer etcd = EtcdServer.reserve()) {
            launchers.put("hub", () -> Components.hub(etcd.endpoint(), hubPort));
            launchers.put("user", () -> Components.service("user", hubPort, userPort, userData));
            launchers.put("post", () -> Components.service("post", hubPort, postPort, postData));
            launchers.put("gateway", () -> Components.gateway(hubPort, gatewayPort, Map.of(
                    "GATEWAY_LOGIN_LIMIT_CAPACITY", "1000", "GATEWAY_LOGIN_LIMIT_PER_SECOND", "1000")));
            try {
                start("gateway");
                await().atMost(CONVERGE).until(() -> status(gatewayPort, "/observe/health/live") == 200);
                assertThat(status(gatewayPort, "/observe/health/ready")).isEqualTo(503);
                assertThat(send(gatewayPort, "GET", "/post/x", null, null).statusCode()).isEqualTo(503);
                start("user");
                start("hub");
                await().atMost(CONVERGE).until(() -> status(hubPort, "/observe/health/live") == 200);
                assertThat(ready(hubPort)).as("a hub without etcd is not ready").isFalse();
                etcd.restart();
                start("post");
                await().atMost(CONVERGE).until(() -> ready(hubPort) && ready(userPort) && ready(postPort)
                                                     && ready(gatewayPort));
                String token = Api.registerAndLogin(gatewayPort, "+4424000000");
                String id = Api.find(Api.ID, send(gatewayPort, "POST", "/post", "{\"title\":\"t\",\"content\":\"c\"}",
                                                  token));
                await().atMost(CONVERGE).until(() -> serving(token, id));

                // restarted one at a time: etcd and the hub killed outright, the others stopped as an operator would
                List<String> recoveries = new ArrayList<>();
                long start = System.nanoTime();
                etcd.restart();
                await().atMost(CONVERGE).until(() -> serving(token, id));
                recoveries.add("etcd " + millisSince(start) + " ms");
                for (String component : List.of("hub", "user", "post", "gateway")) {
                    start = System.nanoTime();
                    restart(component, !component.equals("hub"));
                    await().atMost(CONVERGE).until(() -> serving(token, id));
                    recoveries.add(component + " " + millisSince(start) + " ms");
                }
                System.out.println("serving again after a restart of: " + recoveries);
            } finally {
                running.values().forEach(JavaProcess::close);
            }
        }
    }

    /* Every kind of call works end to end: a public read, a login, an authenticated write. */
    private boolean serving(String token, String id) {
        try {
            return send(gatewayPort, "GET", "/post/" + id, null, null).statusCode() == 200
                   && send(gatewayPort, "POST", "/user/login", Api.credentials("+4424000000"), null).statusCode() == 200
                   && send(gatewayPort, "POST", "/post", "{\"title\":\"t\",\"content\":\"c\"}", token).statusCode() == 201;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private void start(String component) {
        running.put(component, launchers.get(component).get());
    }

    private void restart(String component, boolean graceful) {
        JavaProcess process = running.remove(component);
        if (graceful) {
            process.terminate();
            assertThat(process.waitFor(Duration.ofSeconds(15))).as("%s exit status", component).isZero();
        } else {
            process.kill();
        }
        start(component);
    }

    private static long millisSince(long nanos) {
        return Duration.ofNanos(System.nanoTime() - nanos).toMillis();
    }
}
