package io.switchboard.registry.impl;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.Collection;
import java.util.List;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Status;
import io.grpc.StatusOr;

/**
 * grpc-java name resolution for {@code switchboard:///<name>} targets: the addresses come from the
 * {@link AddressSource} that the channel's builder passes as the name-resolver argument {@link #SOURCE}
 * ({@code ManagedChannelBuilder.setNameResolverArg}, since grpc-java 1.70, marked experimental there), so each
 * channel carries its own source and nothing is kept here: the resolver's shutdown ends its subscription, and the
 * source goes with the channel. Registered once, globally, as grpc-java recommends.
 */
final class SourceResolverProvider extends NameResolverProvider {
    /** Target scheme. */
    static final String SCHEME = "switchboard";
    /** The name-resolver argument that carries a channel's address source. */
    static final NameResolver.Args.Key<AddressSource> SOURCE = NameResolver.Args.Key.create("switchboard.source");

    static {
        NameResolverRegistry.getDefaultRegistry().register(new SourceResolverProvider());
    }

    private SourceResolverProvider() {
    }

    /**
     * The target of a channel whose addresses come from a source; its builder must also set {@link #SOURCE}.
     * grpc-java picks this provider by the scheme; the name becomes the channel's authority.
     *
     * @param name a readable name: the service, or {@code hub}
     * @return the channel target
     */
    static String target(String name) {
        return SCHEME + ":///" + name;
    }

    @Override
    public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
        if (!SCHEME.equals(targetUri.getScheme())) {
            return null;
        }
        AddressSource source = args.getArg(SOURCE);
        if (source == null) {
            return null;
        }
        String name = targetUri.getPath().startsWith("/") ? targetUri.getPath().substring(1) : targetUri.getPath();
        return new SourceResolver(name, source, args);
    }

    @Override
    public String getDefaultScheme() {
        return SCHEME;
    }

    @Override
    protected boolean isAvailable() {
        return true;
    }

    @Override
    protected int priority() {
        return 5;
    }

    @Override
    public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
        return List.of(InetSocketAddress.class);
    }

    private static final class SourceResolver extends NameResolver {
        private final String authority;
        private final AddressSource source;
        private final NameResolver.Args args;
        private AutoCloseable subscription;

        private SourceResolver(String authority, AddressSource source, NameResolver.Args args) {
            this.authority = authority;
            this.source = source;
            this.args = args;
        }

        @Override
        public String getServiceAuthority() {
            return authority;
        }

        @Override
        public void start(Listener2 listener) {
            // grpc-java requires results to be reported from its synchronization context
            subscription = source.subscribe(addresses -> args.getSynchronizationContext().execute(() -> {
                StatusOr<List<EquivalentAddressGroup>> result = addresses.isEmpty()
                        ? StatusOr.fromStatus(Status.UNAVAILABLE.withDescription("no live instance of " + authority))
                        : StatusOr.fromValue(addresses);
                listener.onResult2(ResolutionResult.newBuilder().setAddressesOrError(result).build());
            }));
        }

        @Override
        public void refresh() {
            source.refresh();
        }

        @Override
        public void shutdown() {
            try {
                if (subscription != null) {
                    subscription.close();
                }
            } catch (Exception ignored) {
                // closing a subscription does not fail
            }
        }
    }
}
