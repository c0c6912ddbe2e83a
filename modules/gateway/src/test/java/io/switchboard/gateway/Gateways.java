package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.stream.Collectors;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.hub.HubServer;
import io.switchboard.identity.IdentityFiles;
import io.switchboard.registry.Registration;
import io.switchboard.registry.client.RegistryClient;
import io.switchboard.schema.ApiSchemas;
import io.switchboard.testkit.Stack;

import static org.awaitility.Awaitility.await;

/**
 * A gateway in front of a test's own gRPC backends: a hub of the test's {@link Stack}, the backends registered with
 * it, each with its service's identity, and a gateway, all closed with the stack. The backends serve TLS as their
 * service ({@link #as(String, NettyServerBuilder, Stack)}), since the gateway calls only instances that prove to be the
 * service they were registered as.
 */
final class Gateways {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /* the registrations of each stack's last gateway: the next one's test must not find them in the registry */
    private static final Map<Stack, List<Registration>> REGISTERED = new WeakHashMap<>();

    private Gateways() {
    }

    /**
     * Starts a hub, registers the instances in the given order and starts a gateway; returns once the registrations
     * are healthy and the gateway is ready. The instances an earlier call registered on the same stack (whose etcd the
     * test class shares) are deregistered first, so that a test's gateway sees only its own.
     */
    static GatewayServer over(Stack stack, Instance... instances) {
        return over(stack, Map.of(), instances);
    }

    /** As {@link #over(Stack, Instance...)}, with gateway settings of the test's own. */
    static GatewayServer over(Stack stack, Map<String, String> settings, Instance... instances) {
        List<Registration> earlier = REGISTERED.remove(stack);
        if (earlier != null) {
            earlier.forEach(Registration::close);
        }
        HubServer hub = stack.start(HubServer.start(stack.hubConfig()));
        // each instance registers with its service's identity, as the hub requires
        Map<String, RegistryClient> registries = new HashMap<>();
        List<Registration> registrations = Arrays.stream(instances)
                .map(instance -> stack.start(registries.computeIfAbsent(instance.getService(), service -> stack.start(
                                RegistryClient.create("127.0.0.1:" + hub.port(), stack.identity(service))))
                                                     .register(instance, schemaOf(instance.getService()),
                                                               Duration.ofSeconds(10))))
                .toList();
        REGISTERED.put(stack, registrations);
        GatewayServer gateway = stack.start(GatewayServer.start(stack.serviceConfig(hub.port(), settings)));
        await().atMost(Duration.ofSeconds(10)).until(() -> registrations.stream().allMatch(Registration::healthy));
        HttpRequest ready = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + gateway.managementPort()
                                                              + "/observe/health/ready")).build();
        HttpClient management = stack.http();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> management.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
        // ready means the gateway read the registry: the instances may have registered just after
        Set<String> services = Arrays.stream(instances).map(Instance::getService).collect(Collectors.toSet());
        await().atMost(Duration.ofSeconds(10)).until(() -> gateway.routedServices().containsAll(services));
        return gateway;
    }

    /** The API a test backend of user or post serves: the real service's. */
    static ApiSchema schemaOf(String service) {
        return switch (service) {
        case "post" -> ApiSchemas.of(List.of(PostServiceGrpc.getServiceDescriptor()));
        case "user" -> ApiSchemas.of(List.of(UserServiceGrpc.getServiceDescriptor()));
        default -> throw new IllegalArgumentException("no schema for " + service);
        };
    }

    /** A test backend's server builder, serving TLS with a certificate of the stack's CA that names post. */
    static NettyServerBuilder asPost(NettyServerBuilder builder, Stack stack) {
        return as("post", builder, stack);
    }

    /** A test backend's server builder, serving TLS with a certificate of the stack's CA that names the service. */
    static NettyServerBuilder as(String service, NettyServerBuilder builder, Stack stack) {
        IdentityFiles files = stack.identityFiles(service);
        return builder.useTransportSecurity(files.certificate().toFile(), files.privateKey().toFile());
    }

    /** An instance of post on loopback. */
    static Instance post(String id, int port) {
        return Instance.newBuilder().setService("post").setId(id).setHost("127.0.0.1").setPort(port).build();
    }
}
