package io.switchboard.registry.balancing;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Status;
import io.grpc.StatusOr;

/**
 * grpc-java name resolution for {@code switchboard://<source-id>/<name>} targets: the addresses come from an
 * {@link AddressSource} registered here under an id. Registered once, globally, as grpc-java recommends.
 */
public final class SourceResolverProvider extends NameResolverProvider {
    /** Target scheme. */
    public static final String SCHEME = "switchboard";

    private static final SourceResolverProvider INSTANCE = new SourceResolverProvider();
    private static final AtomicLong IDS = new AtomicLong();
    private final Map<String, AddressSource> sources = new ConcurrentHashMap<>();

    static {
        NameResolverRegistry.getDefaultRegistry().register(INSTANCE);
    }

    private SourceResolverProvider() {
    }

    /**
     * Makes a source resolvable and returns the channel target for it.
     *
     * @param name   a readable name, used as the channel authority path
     * @param source the source
     * @return a handle with the target; closing it forgets the source
     */
    public static Target register(String name, AddressSource source) {
        String id = "s" + IDS.incrementAndGet();
        INSTANCE.sources.put(id, source);
        return new Target(SCHEME + "://" + id + "/" + name, () -> INSTANCE.sources.remove(id));
    }

    @Override
    public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
        if (!SCHEME.equals(targetUri.getScheme())) {
            return null;
        }
        AddressSource source = sources.get(targetUri.getAuthority());
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

    /**
     * A registered target.
     *
     * @param uri     channel target
     * @param release forgets the source
     */
    public record Target(String uri, Runnable release) implements AutoCloseable {
        @Override
        public void close() {
            release.run();
        }
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
