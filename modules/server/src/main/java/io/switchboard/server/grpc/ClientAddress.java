package io.switchboard.server.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.switchboard.identity.ServiceIdentity;

/**
 * The address of the client a call is made for: the one the gateway names in {@code x-client-address} (the client
 * of its HTTP request, {@code gateway.trusted-proxies} taken into account), believed only from a caller whose
 * certificate names the gateway; for any other caller, the caller's own address. Per-client limits in a service (the
 * user service's failed-login backoff) count it. Thread safe.
 */
public final class ClientAddress implements ServerInterceptor {
    /** The metadata the gateway sends. */
    public static final Metadata.Key<String> KEY = Metadata.Key.of("x-client-address", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<String> CURRENT = Context.key("switchboard.client-address");
    /** Longer than any address literal: the value is ignored. */
    private static final int MAX_LENGTH = 64;
    private final String gateway;

    /**
     * The interceptor.
     *
     * @param gateway the service name whose forwarded addresses are believed ({@code gateway})
     */
    public ClientAddress(String gateway) {
        this.gateway = gateway;
    }

    /**
     * The current call's client address.
     *
     * @return the address the gateway named, else the caller's own ({@code "unknown"} outside a gRPC call)
     */
    public static String current() {
        String forwarded = CURRENT.get();
        return forwarded != null ? forwarded : CallerIdentity.peerHost();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        // most calls carry no address: they cost one metadata lookup, and the caller's certificate is read only for
        // those that do
        String forwarded = headers.get(KEY);
        if (forwarded == null || forwarded.length() > MAX_LENGTH
            || !forwarded.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '.' || c == ':')
            || !CallerIdentity.ofConnection().map(ServiceIdentity::service).filter(gateway::equals).isPresent()) {
            return next.startCall(call, headers);
        }
        return Contexts.interceptCall(Context.current().withValue(CURRENT, forwarded), call, headers, next);
    }
}
