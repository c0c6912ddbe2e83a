package io.switchboard.tokens;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Verifies the bearer token of every call that carries one ({@code authorization: Bearer <jwt>} metadata) and
 * makes the caller available through {@link Caller#required()}. A call with an invalid or revoked token is refused
 * with UNAUTHENTICATED before it reaches the service, one whose token cannot be checked now (keys or revocations
 * unreadable) with UNAVAILABLE; a call without one proceeds, and methods that need an identity
 * ask for it. The gateway verifies tokens too, but a service never trusts an identity it did not verify itself.
 */
public final class Authentication implements ServerInterceptor {
    /** The metadata key of the token. */
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final TokenVerifier verifier;

    /**
     * An interceptor over a verifier.
     *
     * @param verifier token verifier
     */
    public Authentication(TokenVerifier verifier) {
        this.verifier = verifier;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String authorization = headers.get(AUTHORIZATION);
        if (authorization == null) {
            return next.startCall(call, headers);
        }
        try {
            Caller caller = verifier.verifyAuthorization(authorization);
            return Contexts.interceptCall(Context.current().withValue(Caller.KEY, caller), call, headers, next);
        } catch (TokenVerifier.InvalidTokenException e) {
            return refuse(call, (e.unavailable() ? Status.UNAVAILABLE : Status.UNAUTHENTICATED).withDescription(e.getMessage()));
        }
    }

    /*
     * Refused once the request has arrived, not before: closing the call while the client is still sending its
     * message makes Helidon 4.5 reset the stream now and then, and the client sees INTERNAL instead of the reason.
     */
    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
        call.request(2);
        return new ServerCall.Listener<>() {
            private boolean done;

            @Override
            public void onHalfClose() {
                if (!done) {
                    done = true;
                    call.close(status, new Metadata());
                }
            }

            @Override
            public void onCancel() {
                done = true;
            }
        };
    }
}
