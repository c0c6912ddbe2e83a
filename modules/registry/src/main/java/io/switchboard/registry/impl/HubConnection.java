package io.switchboard.registry.impl;

import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.grpc.ClientInterceptor;
import io.grpc.EquivalentAddressGroup;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.identity.WorkloadTls;

/**
 * One grpc-java channel to all hub replicas, balanced round robin over those that accept connections, so that a
 * replica that dies costs the calls in flight on it and nothing more. Same transport as the channels to instances
 * ({@link Transport}); a keepalive every 30 s, answered within 5 s, finds a replica that vanished without closing
 * its connections. Thread safe.
 */
public final class HubConnection implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HubConnection.class.getName());

    private final ManagedChannel channel;
    private final HubGrpc.HubStub async;
    private final WorkloadTls tls;
    private final List<ClientInterceptor> interceptors;

    /**
     * A connection over a channel made elsewhere: {@link #open(List, WorkloadTls, List)} in production, an in-process
     * channel in tests.
     *
     * @param channel the channel; closed with the connection
     * @param tls     the component's TLS, for the channels to instances; null for plaintext
     */
    HubConnection(ManagedChannel channel, WorkloadTls tls) {
        this(channel, tls, List.of());
    }

    private HubConnection(ManagedChannel channel, WorkloadTls tls, List<ClientInterceptor> interceptors) {
        this.channel = channel;
        this.async = HubGrpc.newStub(channel);
        this.tls = tls;
        this.interceptors = List.copyOf(interceptors);
    }

    /**
     * Opens a channel to the hub replicas. Does not connect yet: the hub may start later.
     *
     * @param endpoints {@code host:port} of each replica
     * @param tls          the component's TLS, or null for plaintext
     * @param interceptors on every call to the hub and to instances (tracing); the last runs first
     * @return the connection
     * @throws IllegalArgumentException when the list is empty or an endpoint is not {@code host:port}
     */
    public static HubConnection open(List<String> endpoints, WorkloadTls tls, List<ClientInterceptor> interceptors) {
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("hub.endpoints is empty: give at least one host:port");
        }
        List<HostPort> parsed = endpoints.stream().map(HostPort::parse).toList();
        ManagedChannel channel = Transport.channel("hub", new HubAddresses(parsed), tls)
                .defaultLoadBalancingPolicy("round_robin")
                .keepAliveTimeout(5, TimeUnit.SECONDS)
                .intercept(interceptors)
                .build();
        return new HubConnection(channel, tls, interceptors);
    }

    /**
     * The component's TLS, for the channels to instances.
     *
     * @return the TLS, or null for plaintext
     */
    WorkloadTls tls() {
        return tls;
    }

    /**
     * The component's interceptors, for the channels to instances too.
     *
     * @return the interceptors; the last runs first
     */
    List<ClientInterceptor> interceptors() {
        return interceptors;
    }

    /**
     * A blocking stub whose calls end within the deadline.
     *
     * @param deadline per-call deadline
     * @return stub
     */
    HubGrpc.HubBlockingStub blocking(Duration deadline) {
        return HubGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * An async stub, for Watch streams.
     *
     * @return stub
     */
    HubGrpc.HubStub async() {
        return async;
    }

    /**
     * Makes the channel try failed replicas again on the next call. Our retry loops pace themselves with their own
     * jittered backoff, and grpc-java's reconnect backoff (up to two minutes) would otherwise keep a replica
     * that came back unused long after it returned.
     */
    void reconnectNow() {
        channel.resetConnectBackoff();
    }

    /**
     * A failed call's status in a few words, for a log line.
     *
     * @param status the call's status
     * @return its code, and its description if any
     */
    static String describe(Status status) {
        return status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
    }

    @Override
    public void close() {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    record HostPort(String host, int port) {
        static HostPort parse(String endpoint) {
            int colon = endpoint.lastIndexOf(':');
            if (colon <= 0 || colon == endpoint.length() - 1) {
                throw new IllegalArgumentException("hub endpoint must be host:port, got \"" + endpoint + "\"");
            }
            String host = endpoint.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            try {
                int port = Integer.parseInt(endpoint.substring(colon + 1));
                if (port < 1 || port > 65535) {
                    throw new NumberFormatException();
                }
                return new HostPort(host, port);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("hub endpoint port must be 1..65535, got \"" + endpoint + "\"");
            }
        }
    }

    /*
     * The replicas' addresses, looked up again whenever grpc-java asks (a hub Service name in Kubernetes may move).
     * Lookups run on a virtual thread: grpc-java must never block in its synchronization context.
     */
    private static final class HubAddresses implements AddressSource {
        private final List<HostPort> endpoints;
        private volatile Consumer<List<EquivalentAddressGroup>> listener = addresses -> { };

        private HubAddresses(List<HostPort> endpoints) {
            this.endpoints = endpoints;
        }

        @Override
        public AutoCloseable subscribe(Consumer<List<EquivalentAddressGroup>> listener) {
            this.listener = listener;
            refresh();
            return () -> this.listener = addresses -> { };
        }

        @Override
        public void refresh() {
            Thread.ofVirtual().start(() -> listener.accept(resolve()));
        }

        private List<EquivalentAddressGroup> resolve() {
            List<EquivalentAddressGroup> groups = new ArrayList<>();
            for (HostPort endpoint : endpoints) {
                try {
                    List<SocketAddress> addresses = Arrays.stream(InetAddress.getAllByName(endpoint.host()))
                            .map(address -> (SocketAddress) new InetSocketAddress(address, endpoint.port()))
                            .toList();
                    groups.add(new EquivalentAddressGroup(addresses));
                } catch (UnknownHostException e) {
                    LOG.log(Level.WARNING, "hub endpoint " + endpoint.host() + " does not resolve; skipping it for now");
                }
            }
            return groups;
        }
    }
}
