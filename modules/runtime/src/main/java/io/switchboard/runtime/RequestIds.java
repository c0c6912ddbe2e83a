package io.switchboard.runtime;

import java.util.UUID;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * The request id of the current call, from the {@code x-request-id} metadata the gateway sends (a new one when
 * absent), so that a service's log lines can be matched to the gateway's access log.
 */
public final class RequestIds implements ServerInterceptor {
    /** The metadata key. */
    public static final Metadata.Key<String> KEY = Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);

    private static final Context.Key<String> CURRENT = Context.key("switchboard.request-id");

    /**
     * The current call's request id.
     *
     * @return the id, {@code -} outside a call
     */
    public static String current() {
        String id = CURRENT.get();
        return id == null ? "-" : id;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String id = headers.get(KEY);
        if (id == null || id.isEmpty() || id.length() > 128 || !id.chars().allMatch(c -> c > 32 && c < 127)) {
            id = UUID.randomUUID().toString();
        }
        return Contexts.interceptCall(Context.current().withValue(CURRENT, id), call, headers, next);
    }
}
