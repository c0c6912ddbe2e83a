package io.switchboard.it;

import static io.switchboard.it.Components.ready;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.LoginResponse;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A burst of logins on a node with many cores does not exhaust the user service's heap. Every Argon2id check holds
 * 19 MiB while it runs, and handlers are virtual threads with one carrier per core: the service is started with
 * 16 carriers (as on a 16-core node) and a 128 MiB heap, and 16 logins arrive at once.
 */
@Timeout(value = 120, unit = SECONDS)
class LoginBurstTest {
    private static final String PHONE = "+4420000000";
    private static final String PASSWORD = "password 1";
    private static final int BURST = 16;

    @Test
    void sixteenLoginsAtOnceOnSixteenCarriersAllSucceedWithA128MiBHeap() throws Exception {
        int hubPort = FreePorts.next();
        int userPort = FreePorts.next();
        try (EtcdServer etcd = EtcdServer.start(); JavaProcess hub = Components.hub(etcd.endpoint(), hubPort);
             JavaProcess user = Components.service("user", hubPort, userPort, Files.createTempDirectory("user-it-"),
                                                   Map.of("JDK_JAVA_OPTIONS",
                                                          "-Djdk.virtualThreadScheduler.parallelism=" + BURST))) {
            ManagedChannel channel = Components.channel("gateway", "user", userPort);
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> ready(userPort));
                // the JVM took the 16 carriers: it says so when it reads JDK_JAVA_OPTIONS
                assertThat(user.output()).as("the user service's JVM options")
                        .contains("Picked up JDK_JAVA_OPTIONS: -Djdk.virtualThreadScheduler.parallelism=" + BURST);
                UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, SECONDS).register(
                        RegisterRequest.newBuilder().setPhoneNumber(PHONE).setUserPassword(PASSWORD).build());

                UserServiceGrpc.UserServiceFutureStub users = UserServiceGrpc.newFutureStub(channel);
                List<ListenableFuture<LoginResponse>> logins = new ArrayList<>();
                for (int i = 0; i < BURST; i++) {
                    logins.add(users.withDeadlineAfter(30, SECONDS).login(
                            LoginRequest.newBuilder().setPhoneNumber(PHONE).setUserPassword(PASSWORD).build()));
                }
                List<String> failures = new ArrayList<>();
                for (Future<LoginResponse> login : logins) {
                    try {
                        assertThat(login.get().getToken()).isNotEmpty();
                    } catch (ExecutionException e) {
                        failures.add(e.getCause().getMessage());
                    }
                }
                assertThat(failures).as("failed logins; service log:%n%s", user.output()).isEmpty();
                assertThat(user.isAlive()).isTrue();
            } finally {
                channel.shutdownNow();
            }
        }
    }
}
