package io.switchboard.server.grpc;

import java.util.Optional;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.helidon.webserver.grpc.GrpcConnectionContext;
import io.helidon.webserver.grpc.ServerContextKeys;
import io.switchboard.identity.ServiceIdentity;
import io.switchboard.identity.WorkloadTls;

/**
 * Makes the identity of a gRPC call's peer, as its TLS client certificate names it, known to the service for the
 * length of the call: {@link #current()}. It refuses nothing; each service decides what an identity may do (the hub
 * lets an instance register only as its own service). Helidon does not put the TLS session into a call's attributes,
 * so the certificate comes from the connection context Helidon keeps in the gRPC context. Thread safe.
 */
public final class CallerIdentity implements ServerInterceptor {
    private static final Context.Key<ServiceIdentity> CURRENT = Context.key("switchboard.caller-identity");

    /**
     * The identity of the peer of the current call.
     *
     * @return the identity, or empty for a peer without a certificate (or over plaintext)
     */
    public static Optional<ServiceIdentity> current() {
        return Optional.ofNullable(CURRENT.get());
    }

    /**
     * The address the current call came from, to tell anonymous callers apart (in a log line, say).
     *
     * @return the peer's host, or {@code "unknown"} outside a Helidon gRPC call
     */
    public static String peerHost() {
        GrpcConnectionContext connection = ServerContextKeys.CONNECTION_CONTEXT.get();
        return connection == null ? "unknown" : connection.remotePeer().host();
    }

    /**
     * The connection the current call came on: its peer's address and port.
     *
     * @return {@code host:port}, or {@code "unknown"} outside a Helidon gRPC call
     */
    public static String peerConnection() {
        GrpcConnectionContext connection = ServerContextKeys.CONNECTION_CONTEXT.get();
        return connection == null ? "unknown" : connection.remotePeer().host() + ":" + connection.remotePeer().port();
    }

    /* The identity the certificate of the current gRPC call's connection names, read from Helidon's context. */
    static Optional<ServiceIdentity> ofConnection() {
        GrpcConnectionContext connection = ServerContextKeys.CONNECTION_CONTEXT.get();
        return connection == null ? Optional.empty()
                : connection.remotePeer().tlsCertificates().flatMap(WorkloadTls::peer);
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                      ServerCallHandler<Q, A> next) {
        Optional<ServiceIdentity> peer = ofConnection();
        if (peer.isEmpty()) {
            return next.startCall(call, headers);
        }
        return Contexts.interceptCall(Context.current().withValue(CURRENT, peer.get()), call, headers, next);
    }
}
