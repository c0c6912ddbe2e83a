package io.switchboard.tokens;

import java.text.ParseException;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import com.nimbusds.jose.jwk.JWKSet;
import io.grpc.ManagedChannel;
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
     * A verifier of user's tokens.
     *
     * @param discovery discovery, to find user instances
     * @return the keys and their verifier
     */
    public static UserKeys open(Discovery discovery) {
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
        });
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
