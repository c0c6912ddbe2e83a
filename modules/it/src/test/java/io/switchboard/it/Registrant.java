package io.switchboard.it;

import java.nio.file.Path;
import java.time.Duration;

import io.switchboard.api.hub.v1.Instance;
import io.switchboard.identity.LocalCa;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.registry.Registration;
import io.switchboard.registry.client.RegistryClient;

/**
 * A minimal service process for tests: registers one instance through the hub and keeps it registered until
 * SIGTERM (graceful: deregisters) or SIGKILL (the lease must expire by itself).
 */
public final class Registrant {
    private Registrant() {
    }

    /**
     * Entry point; configured by HUB_ENDPOINTS, SERVICE, INSTANCE_ID, TTL_SECONDS and TLS_LOCAL_CA (the local CA it
     * issues its identity from, as the service it registers).
     *
     * @param args ignored
     * @throws Exception when its identity cannot be issued
     */
    public static void main(String[] args) throws Exception {
        WorkloadTls tls = WorkloadTls.load(LocalCa.openOrCreate(Path.of(System.getenv("TLS_LOCAL_CA")),
                                                                LocalCa.DEFAULT_TRUST_DOMAIN)
                                                   .ensure(System.getenv("SERVICE")), Duration.ofHours(1));
        RegistryClient registry = RegistryClient.create(System.getenv("HUB_ENDPOINTS"), tls);
        Registration registration = registry.register(Instance.newBuilder()
                                                              .setService(System.getenv("SERVICE"))
                                                              .setId(System.getenv("INSTANCE_ID"))
                                                              .setHost("127.0.0.1")
                                                              .setPort(9999)
                                                              .build(),
                                                      Duration.ofSeconds(Long.parseLong(System.getenv("TTL_SECONDS"))));
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> Thread.ofPlatform().daemon(false).start(() -> {
            registration.close();
            registry.close();
            System.exit(0);
        }));
        Thread.sleep(Long.MAX_VALUE);
    }
}
