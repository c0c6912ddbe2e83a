package io.switchboard.tokens;

import java.time.Instant;

import io.grpc.Context;
import io.grpc.Status;

/**
 * The verified identity behind a call: the subject of a valid token, and which token it was.
 *
 * @param userId    the user id
 * @param tokenId   the token's {@code jti}
 * @param expiresAt when the token expires
 */
public record Caller(String userId, String tokenId, Instant expiresAt) {
    static final Context.Key<Caller> KEY = Context.key("switchboard.caller");

    /**
     * The caller of the current gRPC call.
     *
     * @return the caller
     * @throws io.grpc.StatusRuntimeException UNAUTHENTICATED when the call carried no valid token
     */
    public static Caller required() {
        Caller caller = KEY.get();
        if (caller == null) {
            throw Status.UNAUTHENTICATED.withDescription("this call needs a bearer token").asRuntimeException();
        }
        return caller;
    }
}
