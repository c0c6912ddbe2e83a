package io.switchboard.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;

import io.grpc.ManagedChannel;
import io.switchboard.api.post.v1.CreatePostRequest;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.GetUserRequest;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.it.Components.bearer;
import static io.switchboard.it.Components.ready;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Nothing acknowledged is lost when a service is killed with SIGKILL in the middle of writes, and everything is
 * there again when it restarts on the same data.
 */
@Timeout(value = 150, unit = SECONDS)
class DurabilityTest {
    private static final String PASSWORD = "password 1";

    @Test
    void noAcknowledgedAccountIsLostAndTokensSurviveTheRestart() throws Exception {
        int hubPort = FreePorts.next();
        int userPort = FreePorts.next();
        Path data = Files.createTempDirectory("user-it-");
        try (EtcdServer etcd = EtcdServer.start(); JavaProcess hub = Components.hub(etcd.endpoint(), hubPort)) {
            JavaProcess user = Components.service("user", hubPort, userPort, data);
            ManagedChannel channel = Components.channel("gateway", "user", userPort);
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> ready(userPort));
                UserServiceGrpc.UserServiceBlockingStub users = UserServiceGrpc.newBlockingStub(channel);
                String token = registerAndLogin(users, "+4420000000");

                List<String> acknowledged = writeUntilKilled(user, 40, i -> {
                    String phone = "+44" + String.format("%010d", 3_000_000_000L + i);
                    users.withDeadlineAfter(5, TimeUnit.SECONDS).register(RegisterRequest.newBuilder()
                            .setPhoneNumber(phone).setUserPassword(PASSWORD).build());
                    return phone;
                });
                assertAllStored(data.resolve("user.db"), "SELECT COUNT(*) FROM users WHERE phone_number = ?", acknowledged);

                user = Components.service("user", hubPort, userPort, data);
                await().atMost(Duration.ofSeconds(20)).until(() -> ready(userPort));
                // the generated signing key survived too: a token issued before the kill is still valid
                // the old channel may still be backing off from the killed process: reconnect now
                channel.resetConnectBackoff();
                assertThat(users.withInterceptors(bearer(token)).withWaitForReady().withDeadlineAfter(10, TimeUnit.SECONDS)
                                   .getUser(GetUserRequest.getDefaultInstance()).getPhoneNumber()).isEqualTo("+4420000000");
                String last = acknowledged.get(acknowledged.size() - 1);
                assertThat(users.withDeadlineAfter(10, TimeUnit.SECONDS).login(LoginRequest.newBuilder()
                        .setPhoneNumber(last).setUserPassword(PASSWORD).build()).getToken()).isNotBlank();
                assertThat(user.stop(Duration.ofSeconds(15))).isZero();
            } finally {
                channel.shutdownNow();
                user.close();
            }
        }
    }

    @Test
    void noAcknowledgedPostIsLost() throws Exception {
        int hubPort = FreePorts.next();
        int userPort = FreePorts.next();
        int postPort = FreePorts.next();
        Path userData = Files.createTempDirectory("user-it-");
        Path postData = Files.createTempDirectory("post-it-");
        try (EtcdServer etcd = EtcdServer.start();
             JavaProcess hub = Components.hub(etcd.endpoint(), hubPort);
             JavaProcess user = Components.service("user", hubPort, userPort, userData)) {
            JavaProcess post = Components.service("post", hubPort, postPort, postData);
            ManagedChannel userChannel = Components.channel("gateway", "user", userPort);
            ManagedChannel postChannel = Components.channel("gateway", "post", postPort);
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> ready(userPort) && ready(postPort));
                String token = registerAndLogin(UserServiceGrpc.newBlockingStub(userChannel), "+4421000000");
                PostServiceGrpc.PostServiceBlockingStub posts = PostServiceGrpc.newBlockingStub(postChannel)
                        .withInterceptors(bearer(token));

                List<String> acknowledged = writeUntilKilled(post, 200, i -> posts.withDeadlineAfter(5, TimeUnit.SECONDS)
                        .createPost(CreatePostRequest.newBuilder().setTitle("post " + i).setContent("content " + i)
                                            .build()).getId());
                assertAllStored(postData.resolve("post.db"), "SELECT COUNT(*) FROM posts WHERE id = ?", acknowledged);

                post = Components.service("post", hubPort, postPort, postData);
                await().atMost(Duration.ofSeconds(20)).until(() -> ready(postPort));
                String last = acknowledged.get(acknowledged.size() - 1);
                // the old channel may still be backing off from the killed process: reconnect now
                postChannel.resetConnectBackoff();
                assertThat(posts.withWaitForReady().withDeadlineAfter(10, TimeUnit.SECONDS).getPost(GetPostRequest.newBuilder().setId(last)
                                                                                         .build()).getId()).isEqualTo(last);
                assertThat(post.stop(Duration.ofSeconds(15))).isZero();
            } finally {
                userChannel.shutdownNow();
                postChannel.shutdownNow();
                post.close();
            }
        }
    }

    private static String registerAndLogin(UserServiceGrpc.UserServiceBlockingStub users, String phone) {
        users.withDeadlineAfter(10, TimeUnit.SECONDS).register(RegisterRequest.newBuilder().setPhoneNumber(phone)
                                                                       .setUserPassword(PASSWORD).build());
        return users.withDeadlineAfter(10, TimeUnit.SECONDS).login(LoginRequest.newBuilder().setPhoneNumber(phone)
                                                                           .setUserPassword(PASSWORD).build()).getToken();
    }

    /*
     * Four writers write as fast as they can; once enough writes were acknowledged the process is killed with
     * SIGKILL mid-stream. Returns what was acknowledged.
     */
    private static List<String> writeUntilKilled(JavaProcess process, int atLeast, IntFunction<String> write)
            throws InterruptedException {
        List<String> acknowledged = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int writer = w;
            writers.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; !stop.get(); i++) {
                    try {
                        acknowledged.add(write.apply(writer * 1_000_000 + i));
                    } catch (RuntimeException e) {
                        return;
                    }
                }
            }));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() >= atLeast);
        process.kill();
        stop.set(true);
        for (Thread writer : writers) {
            writer.join(10_000);
        }
        System.out.println("acknowledged before kill -9: " + acknowledged.size());
        return acknowledged;
    }

    private static void assertAllStored(Path database, String countQuery, List<String> keys) throws Exception {
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + database);
             PreparedStatement query = db.prepareStatement(countQuery)) {
            for (String key : keys) {
                query.setString(1, key);
                try (ResultSet rows = query.executeQuery()) {
                    rows.next();
                    assertThat(rows.getInt(1)).as("acknowledged %s", key).isEqualTo(1);
                }
            }
        }
    }
}
