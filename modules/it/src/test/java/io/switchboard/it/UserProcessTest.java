package io.switchboard.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.switchboard.api.user.v1.GetUserRequest;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The user service as it runs in production (java -jar user.jar) with the real hub and etcd.
 */
@Timeout(value = 150, unit = SECONDS)
class UserProcessTest {
    private static final Path HUB_JAR = Path.of("..", "hub", "target", "hub.jar");
    private static final Path USER_JAR = Path.of("..", "user", "target", "user.jar");
    private static final int TTL = 2;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void readinessIsTheLeaseAndSigtermDeregistersAtOnce() throws Exception {
        int hubPort = FreePorts.next();
        int userPort = FreePorts.next();
        Path data = Files.createTempDirectory("user-it-");
        try (EtcdServer etcd = EtcdServer.start();
             Client client = Client.builder().endpoints(etcd.endpoint()).build();
             JavaProcess user = JavaProcess.jar(USER_JAR, userEnv(hubPort, userPort, data))) {
            // no hub yet: the service lives but is not ready
            await().atMost(Duration.ofSeconds(20)).until(() -> status(userPort, "/observe/health/live") == 200);
            assertThat(status(userPort, "/observe/health/ready")).isEqualTo(503);

            try (JavaProcess hub = JavaProcess.jar(HUB_JAR, Map.of("ETCD_ENDPOINTS", etcd.endpoint(),
                                                                   "SERVER_PORT", String.valueOf(hubPort)))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> status(userPort, "/observe/health/ready") == 200);
                assertThat(instances(client)).isEqualTo(1);

                // etcd away for longer than the TTL: not ready; back: ready again within TTL + 5 s
                etcd.kill();
                await().atMost(Duration.ofSeconds(TTL + 2)).until(() -> status(userPort, "/observe/health/ready") == 503);
                Thread.sleep(TTL * 2000L);
                assertThat(status(userPort, "/observe/health/ready")).isEqualTo(503);
                etcd.restart();
                await().atMost(Duration.ofSeconds(TTL + 5)).until(() -> status(userPort, "/observe/health/ready") == 200);
                assertThat(instances(client)).isEqualTo(1);

                user.terminate();
                long start = System.nanoTime();
                await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).until(() -> instances(client) == 0);
                System.out.printf("record gone %d ms after SIGTERM%n", Duration.ofNanos(System.nanoTime() - start).toMillis());
                assertThat(user.waitFor(Duration.ofSeconds(15))).as(user.output()).isZero();
                assertThat(user.output()).contains("user stopped").doesNotContain("Exception");
                hub.stop(Duration.ofSeconds(15));
            }
        }
    }

    @Test
    void nothingAcknowledgedIsLostWhenKilled() throws Exception {
        int hubPort = FreePorts.next();
        int userPort = FreePorts.next();
        Path data = Files.createTempDirectory("user-it-");
        try (EtcdServer etcd = EtcdServer.start();
             JavaProcess hub = JavaProcess.jar(HUB_JAR, Map.of("ETCD_ENDPOINTS", etcd.endpoint(),
                                                               "SERVER_PORT", String.valueOf(hubPort)))) {
            JavaProcess user = JavaProcess.jar(USER_JAR, userEnv(hubPort, userPort, data));
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", userPort).usePlaintext().build();
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> status(userPort, "/observe/health/ready") == 200);
                UserServiceGrpc.UserServiceBlockingStub stub = UserServiceGrpc.newBlockingStub(channel);
                stub.withDeadlineAfter(10, TimeUnit.SECONDS).register(register("+4420000000"));
                String token = stub.withDeadlineAfter(10, TimeUnit.SECONDS).login(LoginRequest.newBuilder()
                        .setPhoneNumber("+4420000000").setUserPassword("password 1").build()).getToken();

                // writers register accounts as fast as they can; the process is killed in the middle
                List<String> acknowledged = new CopyOnWriteArrayList<>();
                AtomicBoolean stop = new AtomicBoolean();
                List<Thread> writers = new java.util.ArrayList<>();
                for (int w = 0; w < 4; w++) {
                    int writer = w;
                    writers.add(Thread.ofVirtual().start(() -> {
                        for (int i = 0; !stop.get(); i++) {
                            String phone = "+44" + (30 + writer) + String.format("%08d", i);
                            try {
                                stub.withDeadlineAfter(5, TimeUnit.SECONDS).register(register(phone));
                                acknowledged.add(phone);
                            } catch (RuntimeException e) {
                                return;
                            }
                        }
                    }));
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() >= 40);
                user.kill();
                stop.set(true);
                for (Thread writer : writers) {
                    writer.join(10_000);
                }
                System.out.println("acknowledged before kill -9: " + acknowledged.size());

                try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("user.db"))) {
                    for (String phone : acknowledged) {
                        try (var query = db.prepareStatement("SELECT COUNT(*) FROM users WHERE phone_number = ?")) {
                            query.setString(1, phone);
                            try (ResultSet rows = query.executeQuery()) {
                                rows.next();
                                assertThat(rows.getInt(1)).as("acknowledged account %s", phone).isEqualTo(1);
                            }
                        }
                    }
                }

                // restarted on the same data: accounts and the signing key are still there
                user = JavaProcess.jar(USER_JAR, userEnv(hubPort, userPort, data));
                await().atMost(Duration.ofSeconds(20)).until(() -> status(userPort, "/observe/health/ready") == 200);
                Metadata bearer = new Metadata();
                bearer.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
                assertThat(stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(bearer))
                                   .withDeadlineAfter(10, TimeUnit.SECONDS)
                                   .getUser(GetUserRequest.getDefaultInstance()).getPhoneNumber()).isEqualTo("+4420000000");
                String last = acknowledged.get(acknowledged.size() - 1);
                assertThat(stub.withDeadlineAfter(10, TimeUnit.SECONDS).login(LoginRequest.newBuilder()
                        .setPhoneNumber(last).setUserPassword("password 1").build()).getToken()).isNotBlank();
                assertThat(user.stop(Duration.ofSeconds(15))).isZero();
            } finally {
                channel.shutdownNow();
                user.close();
            }
        }
    }

    private static RegisterRequest register(String phone) {
        return RegisterRequest.newBuilder().setPhoneNumber(phone).setUserPassword("password 1").build();
    }

    private static Map<String, String> userEnv(int hubPort, int userPort, Path data) {
        return Map.of("HUB_ENDPOINTS", "127.0.0.1:" + hubPort,
                      "SERVER_PORT", String.valueOf(userPort),
                      "REGISTRY_TTL", String.valueOf(TTL),
                      "DATA_DIR", data.toString());
    }

    private static long instances(Client client) throws Exception {
        return client.getKVClient().get(ByteSequence.from("/switchboard/services/user/", StandardCharsets.UTF_8),
                                        GetOption.builder().isPrefix(true).withCountOnly(true).build())
                .get(5, TimeUnit.SECONDS).getCount();
    }

    private static int status(int port, String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                     .timeout(Duration.ofSeconds(2)).build(),
                             HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }
}
