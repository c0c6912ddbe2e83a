package io.switchboard.server.grpc;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

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

    /**
     * Whether a request id from a client or a caller can be kept: 1 to 128 printable ASCII characters, no spaces,
     * so that it is safe in a log line and a header. The gateway and every service apply this one rule.
     *
     * @param id the id as received; may be null
     * @return true when it can be kept
     */
    public static boolean valid(String id) {
        return id != null && !id.isEmpty() && id.length() <= 128 && id.chars().allMatch(c -> c > 32 && c < 127);
    }

    /**
     * A new request id: a random (version 4) UUID from a fast, non-cryptographic generator. A request id only has
     * to be unique enough to find log lines; {@link UUID#randomUUID()} would draw on {@code SecureRandom} for every
     * request.
     *
     * @return the id
     */
    public static String create() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long high = (random.nextLong() & ~0xF000L) | 0x4000L;
        long low = (random.nextLong() & ~(0xC000L << 48)) | (0x8000L << 48);
        return new UUID(high, low).toString();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String id = headers.get(KEY);
        if (!valid(id)) {
            id = create();
        }
        return Contexts.interceptCall(Context.current().withValue(CURRENT, id), call, headers, next);
    }
}
