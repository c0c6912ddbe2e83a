package io.switchboard.registry;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.switchboard.hub.HubServer;
import io.switchboard.registry.client.RegistryClient;
import io.switchboard.testkit.FreePorts;

import static org.awaitility.Awaitility.await;

/**
 * One hub replica in this JVM on a fixed free port (so that it can stop and start again on the same port) and a
 * registry client of it. Registrations made through {@link #register} are closed with the fixture.
 */
final class SingleHub implements AutoCloseable {
    final int port = FreePorts.next();
    final RegistryClient registry = RegistryClient.create("127.0.0.1:" + port);
    private final String etcdEndpoint;
    private final List<Registration> registrations = new CopyOnWriteArrayList<>();
    private HubServer hub;

    private SingleHub(String etcdEndpoint) {
        this.etcdEndpoint = etcdEndpoint;
    }

    /** A running hub and its client. */
    static SingleHub start(String etcdEndpoint) {
        SingleHub fixture = new SingleHub(etcdEndpoint);
        fixture.startHub();
        return fixture;
    }

    /** A client whose hub is not running yet. */
    static SingleHub clientOnly(String etcdEndpoint) {
        return new SingleHub(etcdEndpoint);
    }

    void startHub() {
        hub = Hubs.start(etcdEndpoint, port);
    }

    /** The running hub's management port (its metrics). */
    int managementPort() {
        return hub.managementPort();
    }

    void stopHub() {
        if (hub != null) {
            hub.close();
            hub = null;
        }
    }

    /** Registers an instance and waits until its lease is healthy. */
    Registration registerHealthy(String service, String id, int instancePort, Duration ttl) {
        Registration registration = register(service, id, instancePort, ttl);
        await().atMost(Duration.ofSeconds(5)).until(registration::healthy);
        return registration;
    }

    /** Registers an instance without waiting. */
    Registration register(String service, String id, int instancePort, Duration ttl) {
        Registration registration = registry.register(Hubs.instance(service, id, instancePort), ttl);
        registrations.add(registration);
        return registration;
    }

    @Override
    public void close() {
        registrations.forEach(Registration::close);
        registry.close();
        stopHub();
    }
}
