package io.switchboard.user;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.helidon.config.Config;
import io.switchboard.api.user.v1.GetJwksRequest;
import io.switchboard.api.user.v1.GetUserRequest;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.hub.HubServer;
import io.switchboard.testkit.Stack;
import io.switchboard.testkit.TlsChannels;
import io.switchboard.user.tokens.SigningKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A signing key rotation as README describes it: the user service restarts with a new {@code user.signing-key} and
 * the old public key in {@code user.extra-public-keys}; tokens signed with the old key still verify (and the old
 * key stays in the published JWK set that the gateway and post use) until the old key is dropped.
 */
@Timeout(value = 60, unit = SECONDS)
class KeyRotationTest {
    private static final String PHONE = "+4915112345678";
    private static final String PASSWORD = "password 1";
    @RegisterExtension
    static final Stack STACK = new Stack();
    private final Map<Integer, ManagedChannel> channels = new ConcurrentHashMap<>();

    @AfterEach
    void closeChannels() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }

    @Test
    void tokensOfTheOldKeyVerifyWhileItIsAnExtraPublicKeyAndNotAfter() throws Exception {
        ECKey old = SigningKeys.generate();
        ECKey current = SigningKeys.generate();
        Path data = STACK.directory("user-rotation-");
        try (HubServer hub = HubServer.start(STACK.hubConfig())) {
            String oldToken;
            String userId;
            try (UserServer before = UserServer.start(config(hub, data, Map.of("user.signing-key", old.toJSONString())))) {
                userId = users(before).register(RegisterRequest.newBuilder().setPhoneNumber(PHONE)
                                                        .setUserPassword(PASSWORD).build()).getUserId();
                oldToken = login(before);
                assertThat(kid(oldToken)).isEqualTo(old.getKeyID());
            }

            String extra = new JWKSet(old.toPublicJWK()).toString();
            try (UserServer rotated = UserServer.start(config(hub, data, Map.of("user.signing-key", current.toJSONString(),
                                                                                "user.extra-public-keys", extra)))) {
                JWKSet published = JWKSet.parse(users(rotated).getJwks(GetJwksRequest.getDefaultInstance()).getJson());
                assertThat(published.getKeys()).extracting(k -> k.getKeyID())
                        .containsExactly(current.getKeyID(), old.getKeyID());
                assertThat(published.getKeys()).noneMatch(k -> k.isPrivate());
                assertThat(users(rotated, oldToken).getUser(GetUserRequest.getDefaultInstance()).getUserId())
                        .as("a token signed before the rotation").isEqualTo(userId);
                String newToken = login(rotated);
                assertThat(kid(newToken)).isEqualTo(current.getKeyID());
                assertThat(users(rotated, newToken).getUser(GetUserRequest.getDefaultInstance()).getUserId()).isEqualTo(userId);
            }

            try (UserServer done = UserServer.start(config(hub, data, Map.of("user.signing-key", current.toJSONString())))) {
                assertThat(JWKSet.parse(users(done).getJwks(GetJwksRequest.getDefaultInstance()).getJson()).getKeys())
                        .extracting(k -> k.getKeyID()).containsExactly(current.getKeyID());
                assertThatThrownBy(() -> users(done, oldToken).getUser(GetUserRequest.getDefaultInstance()))
                        .as("the old key's token once the old key is no longer published")
                        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
                assertThat(users(done, login(done)).getUser(GetUserRequest.getDefaultInstance()).getUserId())
                        .isEqualTo(userId);
            }
        }
    }

    private static Config config(HubServer hub, Path data, Map<String, String> keys) {
        Map<String, String> settings = new HashMap<>(keys);
        settings.put("data.dir", data.toString());
        return STACK.serviceConfig(hub.port(), settings);
    }

    private String login(UserServer user) {
        return users(user).login(LoginRequest.newBuilder().setPhoneNumber(PHONE).setUserPassword(PASSWORD).build())
                .getToken();
    }

    private static String kid(String token) throws Exception {
        return SignedJWT.parse(token).getHeader().getKeyID();
    }

    private UserServiceGrpc.UserServiceBlockingStub users(UserServer user) {
        return users(user, null);
    }

    /* A stub over a channel to that server (each server has a port of its own). */
    private UserServiceGrpc.UserServiceBlockingStub users(UserServer user, String token) {
        ManagedChannel channel = channels.computeIfAbsent(user.runtime().port(), port -> TlsChannels.to(
                STACK.identity("gateway"), "user", "127.0.0.1", port));
        UserServiceGrpc.UserServiceBlockingStub stub = UserServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        if (token == null) {
            return stub;
        }
        Metadata metadata = new Metadata();
        metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata));
    }

}
