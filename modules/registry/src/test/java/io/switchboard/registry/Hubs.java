package io.switchboard.registry;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.hub.HubServer;

/**
 * Hub replicas in this JVM on fixed free ports (so that one can be restarted on the same port), and etcd reads.
 */
final class Hubs {
    private Hubs() {
    }

    static HubServer start(String etcdEndpoint, int port) {
        // plaintext: these tests register any service through one client (HubIdentityTest covers the hub with TLS)
        return HubServer.start(Config.just(ConfigSources.create(Map.of("server.port", String.valueOf(port),
                                                                       "etcd.endpoints", etcdEndpoint,
                                                                       "tls.plaintext", "true"))));
    }

    static Instance instance(String service, String id, int port) {
        return Instance.newBuilder().setService(service).setId(id).setHost("127.0.0.1").setPort(port)
                .setVersion("1").build();
    }

    /** The lease the record of an instance is attached to, 0 when there is no record. */
    static long leaseOf(Client etcd, String service, String id) {
        try {
            List<KeyValue> kvs = etcd.getKVClient().get(ByteSequence.from("/switchboard/services/" + service + "/" + id,
                                                                          StandardCharsets.UTF_8)).get().getKvs();
            return kvs.isEmpty() ? 0 : kvs.get(0).getLease();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read etcd", e);
        }
    }
}
