package io.switchboard.user;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.helidon.config.Config;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.hub.HubServer;
import io.switchboard.testkit.Stack;
import io.switchboard.testkit.TlsChannels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The operator changes the Argon2 cost ({@code user.argon2.memory-kib}, {@code user.argon2.iterations}) and
 * restarts the user service: accounts registered before still log in, and their first login stores a hash at the
 * new cost.
 */
@Timeout(value = 60, unit = SECONDS)
class Argon2CostChangeTest {
    private static final String PHONE = "+4915112340000";
    private static final String PASSWORD = "password 1";

    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void usersRegisteredAtTheOldCostLogInAfterAChangeAndTheirHashMovesToTheNewCost() throws Exception {
        Path data = STACK.directory("user-argon2-");
        HubServer hub = STACK.start(HubServer.start(STACK.hubConfig()));
        String userId;
        try (UserServer before = UserServer.start(config(hub, data, 1024, 1))) {
            userId = call(before, users -> users.register(RegisterRequest.newBuilder().setPhoneNumber(PHONE)
                                                                 .setUserPassword(PASSWORD).build()).getUserId());
        }
        assertThat(storedHash(data, userId)).startsWith("$argon2id$v=19$m=1024,t=1,p=1$");

        try (UserServer after = UserServer.start(config(hub, data, 2048, 2))) {
            assertThatThrownBy(() -> call(after, users -> login(users, "wrong password")))
                    .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
            assertThat(storedHash(data, userId)).as("a wrong password upgrades nothing")
                    .startsWith("$argon2id$v=19$m=1024,t=1,p=1$");

            assertThat(call(after, users -> login(users, PASSWORD))).as("login after the cost change").isEqualTo(userId);
            assertThat(storedHash(data, userId)).startsWith("$argon2id$v=19$m=2048,t=2,p=1$");
            assertThat(call(after, users -> login(users, PASSWORD))).as("login with the upgraded hash").isEqualTo(userId);
        }

        try (UserServer back = UserServer.start(config(hub, data, 1024, 1))) {
            assertThat(call(back, users -> login(users, PASSWORD))).as("login after going back").isEqualTo(userId);
            assertThat(storedHash(data, userId)).startsWith("$argon2id$v=19$m=1024,t=1,p=1$");
        }
    }

    private static String login(UserServiceGrpc.UserServiceBlockingStub users, String password) {
        return users.login(LoginRequest.newBuilder().setPhoneNumber(PHONE).setUserPassword(password).build()).getUserId();
    }

    private static Config config(HubServer hub, Path data, int memoryKib, int iterations) {
        return STACK.serviceConfig(hub.port(), Map.of("data.dir", data.toString(),
                                                      "user.argon2.memory-kib", String.valueOf(memoryKib),
                                                      "user.argon2.iterations", String.valueOf(iterations)));
    }

    private static String call(UserServer user, java.util.function.Function<UserServiceGrpc.UserServiceBlockingStub, String> call) {
        ManagedChannel channel = TlsChannels.to(STACK.identity("gateway"), "user", "127.0.0.1", user.runtime().port());
        try {
            return call.apply(UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS));
        } finally {
            channel.shutdownNow();
        }
    }

    private static String storedHash(Path data, String userId) throws Exception {
        try (var connection = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("user.db"));
             var query = connection.prepareStatement("SELECT password_hash FROM users WHERE id = ?")) {
            query.setString(1, userId);
            try (ResultSet rows = query.executeQuery()) {
                assertThat(rows.next()).isTrue();
                return rows.getString(1);
            }
        }
    }
}
