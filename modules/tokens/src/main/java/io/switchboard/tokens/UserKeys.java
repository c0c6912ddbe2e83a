package io.switchboard.tokens;

import java.text.ParseException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import com.nimbusds.jose.jwk.JWKSet;
import io.grpc.ManagedChannel;
import io.helidon.config.Config;
import io.switchboard.api.user.v1.GetJwksRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.registry.Balancing;
import io.switchboard.registry.Discovery;

/**
 * A token verifier fed by the public keys the user service publishes ({@code GetJwks}), found through discovery:
 * no shared secret anywhere. Close it to release its channel.
 */
public final class UserKeys implements AutoCloseable {
    private final ManagedChannel channel;
    private final TokenVerifier verifier;

    private UserKeys(ManagedChannel channel, TokenVerifier verifier) {
        this.channel = channel;
        this.verifier = verifier;
    }

    /**
     * A verifier of user's tokens with the clock skew of {@code tokens.clock-skew} (an ISO-8601 duration, default
     * {@link TokenVerifier#CLOCK_SKEW}).
     *
     * @param discovery discovery, to find user instances
     * @param config    root configuration
     * @return the keys and their verifier
     * @throws IllegalArgumentException when the skew is not 0 to 5 minutes
     */
    public static UserKeys open(Discovery discovery, Config config) {
        return open(discovery, clockSkew(config));
    }

    /**
     * The clock skew allowed between the issuer's clock and a verifier's: {@code tokens.clock-skew}.
     *
     * @param config root configuration
     * @return the skew, {@link TokenVerifier#CLOCK_SKEW} when unset
     */
    public static Duration clockSkew(Config config) {
        return config.get("tokens.clock-skew").as(Duration.class).orElse(TokenVerifier.CLOCK_SKEW);
    }

    private static UserKeys open(Discovery discovery, Duration clockSkew) {
        ManagedChannel channel = discovery.channel("user", Balancing.ROUND_ROBIN,
                                                   Set.of(UserServiceGrpc.getGetJwksMethod().getFullMethodName()));
        UserServiceGrpc.UserServiceBlockingStub stub = UserServiceGrpc.newBlockingStub(channel);
        TokenVerifier verifier = new TokenVerifier(() -> {
            String json = stub.withDeadlineAfter(2, TimeUnit.SECONDS).getJwks(GetJwksRequest.getDefaultInstance()).getJson();
            try {
                return JWKSet.parse(json);
            } catch (ParseException e) {
                throw new IllegalStateException("user published an unreadable key set: " + e.getMessage());
            }
        }, TokenVerifier.REFRESH_INTERVAL, clockSkew);
        return new UserKeys(channel, verifier);
    }

    /**
     * The verifier.
     *
     * @return verifier
     */
    public TokenVerifier verifier() {
        return verifier;
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
