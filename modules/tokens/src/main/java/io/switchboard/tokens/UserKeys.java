package io.switchboard.tokens;

import java.text.ParseException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import com.nimbusds.jose.jwk.JWKSet;
import io.grpc.ManagedChannel;
import io.helidon.config.Config;
import io.switchboard.api.user.v1.GetJwksRequest;
import io.switchboard.api.user.v1.ListRevokedTokensRequest;
import io.switchboard.api.user.v1.ListRevokedTokensResponse;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.registry.Balancing;
import io.switchboard.registry.Discovery;
import io.switchboard.registry.ServiceEndpoints;

/**
 * A token verifier fed by the public keys the user service publishes ({@code GetJwks}) and the tokens it revoked
 * ({@code ListRevokedTokens}), found through discovery: no shared secret anywhere. Both are fetched in the background
 * as soon as a user instance answers ({@link TokenUpkeep}), and the revocations every {@code tokens.revocation-poll}.
 * Close it to stop that and release its channel.
 */
public final class UserKeys implements AutoCloseable {
    private final ManagedChannel channel;
    private final TokenVerifier verifier;
    private final TokenUpkeep upkeep;

    private UserKeys(ManagedChannel channel, TokenVerifier verifier, TokenUpkeep upkeep) {
        this.channel = channel;
        this.verifier = verifier;
        this.upkeep = upkeep;
    }

    /**
     * A verifier of user's tokens with the clock skew of {@code tokens.clock-skew} (an ISO-8601 duration, default
     * {@link TokenVerifier#CLOCK_SKEW}), reading revocations every {@code tokens.revocation-poll} (default
     * {@link TokenUpkeep#POLL}).
     *
     * @param discovery discovery, to find user instances
     * @param config    root configuration
     * @return the keys and their verifier
     * @throws IllegalArgumentException when the skew is not 0 to 5 minutes, or the poll interval not 100 ms to 1 minute
     */
    public static UserKeys open(Discovery discovery, Config config) {
        return open(discovery, clockSkew(config), revocationPoll(config));
    }

    /**
     * The time between two reads of the revoked tokens: {@code tokens.revocation-poll}.
     *
     * @param config root configuration
     * @return the interval, {@link TokenUpkeep#POLL} when unset
     * @throws IllegalArgumentException when it is not 100 ms to 1 minute
     */
    public static Duration revocationPoll(Config config) {
        return TokenUpkeep.checked(config.get("tokens.revocation-poll").as(Duration.class).orElse(TokenUpkeep.POLL));
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

    private static UserKeys open(Discovery discovery, Duration clockSkew, Duration poll) {
        ManagedChannel channel = discovery.channel("user", Balancing.ROUND_ROBIN,
                                                   Set.of(UserServiceGrpc.getGetJwksMethod().getFullMethodName(),
                                                          UserServiceGrpc.getListRevokedTokensMethod().getFullMethodName()));
        UserServiceGrpc.UserServiceBlockingStub stub = UserServiceGrpc.newBlockingStub(channel);
        RevokedTokens revoked = RevokedTokens.from((since, after) -> page(
                stub.withDeadlineAfter(2, TimeUnit.SECONDS).listRevokedTokens(
                        ListRevokedTokensRequest.newBuilder().setSinceMillis(since).setAfterTokenId(after).build())),
                                                   clockSkew);
        TokenVerifier verifier = new TokenVerifier(() -> {
            String json = stub.withDeadlineAfter(2, TimeUnit.SECONDS).getJwks(GetJwksRequest.getDefaultInstance()).getJson();
            try {
                return JWKSet.parse(json);
            } catch (ParseException e) {
                throw new IllegalStateException("user published an unreadable key set: " + e.getMessage());
            }
        }, TokenVerifier.REFRESH_INTERVAL, clockSkew, revoked);
        ServiceEndpoints users = discovery.endpoints("user");
        return new UserKeys(channel, verifier, TokenUpkeep.start(verifier, poll, () -> !users.instances().isEmpty()));
    }

    private static RevokedTokens.Page page(ListRevokedTokensResponse response) {
        List<RevokedTokens.Revoked> tokens = response.getTokensList().stream()
                .map(t -> new RevokedTokens.Revoked(t.getTokenId(), t.getExpiresAtMillis(), t.getRevokedAtMillis()))
                .toList();
        return new RevokedTokens.Page(tokens, response.getMore());
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
        upkeep.close();
        channel.shutdownNow();
    }
}
