package io.switchboard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import javax.net.ssl.SSLContext;

import io.grpc.ManagedChannel;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.switchboard.identity.IdentityFiles;
import io.switchboard.identity.LocalCa;
import io.switchboard.identity.WorkloadTls;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test class's stack of real parts as a JUnit 5 extension, as jetcd's {@code EtcdClusterExtension} is: a real etcd
 * started before the first test, then whatever components the test starts through {@link #start(AutoCloseable)},
 * all closed in reverse order after the last test, with their temporary data directories. Components configured
 * through {@link #config(Map)} have certificates of the stack's own CA and talk mutual TLS; test clients call them
 * through {@link #channel(String, String, int)} and {@link #http()}.
 * <pre>{@code
 * @RegisterExtension
 * static final Stack STACK = new Stack();
 *
 * @BeforeAll
 * static void start() {
 *     hub = STACK.start(HubServer.start(STACK.hubConfig()));
 *     post = STACK.start(PostServer.start(STACK.serviceConfig(hub.port(), Map.of())));
 *     channel = STACK.channel("gateway", "post", post.runtime().port());
 * }
 * }</pre>
 * A component that a test stops on purpose may be closed twice: components' {@code close} is idempotent here. When
 * etcd cannot start, the test class fails with the harness's message; it never skips. A test method may start parts
 * too (they are closed after the last test, not after that method). Not thread safe: the extension's callbacks, the
 * test's {@code @BeforeAll} and its test methods run on one thread (JUnit's default, {@code @Timeout} included).
 */
public final class Stack implements BeforeAllCallback, AfterAllCallback {
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final List<Path> directories = new ArrayList<>();
    private final Map<String, WorkloadTls> identities = new HashMap<>();
    private EtcdServer etcd;
    private Path localCa;

    @Override
    public void beforeAll(ExtensionContext context) {
        etcd = EtcdServer.start();
    }

    /**
     * The stack's etcd, running from before the first test.
     *
     * @return etcd
     * @throws IllegalStateException outside the test class's lifetime
     */
    public EtcdServer etcd() {
        if (etcd == null) {
            throw new IllegalStateException("the stack's etcd runs from beforeAll to afterAll; register Stack with "
                                            + "@RegisterExtension on a static field");
        }
        return etcd;
    }

    /**
     * Keeps a started component, to close it after the last test (components close in reverse order, etcd last).
     *
     * @param component a running component
     * @param <T>       its type
     * @return the component
     */
    public <T extends AutoCloseable> T start(T component) {
        started.push(component);
        return component;
    }

    /**
     * Keeps a started part that is not {@link AutoCloseable}, such as a gRPC channel or server or a browser, to stop
     * it with the given method after the last test, in the same reverse order as {@link #start(AutoCloseable)}.
     *
     * @param part a running part
     * @param stop how it stops, such as {@code ManagedChannel::shutdownNow}
     * @param <T>  its type
     * @return the part
     */
    public <T> T start(T part, Consumer<? super T> stop) {
        started.push(() -> stop.accept(part));
        return part;
    }

    /**
     * Configuration for a component of the stack: the given settings over {@code server.port=0} (a free port, and one
     * for the management port), a
     * fresh {@code data.dir} unless the settings name one (deleted after the last test), and, unless the settings
     * name some {@code tls.*}, the stack's {@link #localCa()} as {@code tls.local-ca}: components run with mutual
     * TLS, as users run them.
     *
     * @param settings keys and values, such as {@code etcd.endpoints}
     * @return the configuration
     */
    public Config config(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>();
        all.put("server.port", "0");
        all.putAll(settings);
        all.computeIfAbsent("data.dir", key -> directory("switchboard-data-").toString());
        if (all.keySet().stream().noneMatch(key -> key.startsWith("tls."))) {
            all.put("tls.local-ca", localCa().toString());
        }
        return Config.just(ConfigSources.create(all));
    }

    /**
     * The directory of the stack's local CA ({@link LocalCa}, made on first use), from which its components issue
     * their certificates, and the test clients theirs.
     *
     * @return the directory
     */
    public Path localCa() {
        if (localCa == null) {
            localCa = directory("switchboard-ca-");
        }
        return localCa;
    }

    /**
     * A certificate of the stack's CA for the given service, for a test client to call as that service (kept and
     * closed after the last test).
     *
     * @param service the service name
     * @return its TLS
     */
    public WorkloadTls identity(String service) {
        return identities.computeIfAbsent(service, name -> {
            try {
                return start(WorkloadTls.load(identityFiles(name), Duration.ofHours(1)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load a test identity for " + name, e);
            }
        });
    }

    /**
     * The files of a certificate of the stack's CA for the given service, for a test's own server to serve as that
     * service (grpc-java's {@code useTransportSecurity(certificate, key)}).
     *
     * @param service the service name
     * @return its files
     */
    public IdentityFiles identityFiles(String service) {
        try {
            return LocalCa.openOrCreate(localCa(), LocalCa.DEFAULT_TRUST_DOMAIN).ensure(service);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot issue a test identity for " + service, e);
        }
    }

    /**
     * A gRPC channel to a component of the stack on loopback, over mutual TLS as the given caller, that reaches
     * only a server whose certificate names {@code service}; shut down after the last test.
     *
     * @param caller  the service the test calls as
     * @param service the service the component serves, such as {@code post} or {@code hub}
     * @param port    its port
     * @return the channel
     */
    public ManagedChannel channel(String caller, String service, int port) {
        return start(TlsChannels.to(identity(caller), service, "127.0.0.1", port), ManagedChannel::shutdownNow);
    }

    /**
     * An HTTP client that trusts the stack's CA and shows no certificate, as Prometheus and a probe reach the
     * components' observe endpoints and the dashboard.
     *
     * @return the client
     */
    public HttpClient http() {
        return HttpClient.newBuilder().sslContext(trustingContext()).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /**
     * A TLS context that trusts the stack's CA and shows no certificate: a client from outside the platform.
     *
     * @return the context
     */
    public SSLContext trustingContext() {
        try {
            return LocalCa.openOrCreate(localCa(), LocalCa.DEFAULT_TRUST_DOMAIN).trustingContext();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the stack's CA", e);
        }
    }

    /**
     * Configuration for a hub of the stack: as {@link #config(Map)}, over the stack's etcd.
     *
     * @return the configuration
     * @throws IllegalStateException outside the test class's lifetime
     */
    public Config hubConfig() {
        return config(Map.of("etcd.endpoints", etcd().endpoint()));
    }

    /**
     * Configuration for a service or gateway of the stack: as {@link #config(Map)}, registered through the given hub
     * with a 2 s lease TTL, so that a stopped instance leaves the registry quickly.
     *
     * @param hubPort  the hub's port on loopback
     * @param settings further keys and values
     * @return the configuration
     */
    public Config serviceConfig(int hubPort, Map<String, String> settings) {
        Map<String, String> all = new HashMap<>();
        all.put("hub.endpoints", "127.0.0.1:" + hubPort);
        all.put("registry.ttl", "2");
        all.putAll(settings);
        return config(all);
    }

    /**
     * A new temporary directory, deleted after the last test.
     *
     * @param prefix its name's prefix
     * @return the directory
     */
    public Path directory(String prefix) {
        try {
            Path directory = Files.createTempDirectory(prefix);
            directories.add(directory);
            return directory;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory", e);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        Exception failure = null;
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (etcd != null) {
            etcd.close();
            etcd = null;
        }
        directories.forEach(ServerFiles::delete);
        directories.clear();
        identities.clear();
        localCa = null;
        if (failure != null) {
            throw failure;
        }
    }
}
