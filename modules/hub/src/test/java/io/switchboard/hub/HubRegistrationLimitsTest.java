package io.switchboard.hub;

import java.time.Duration;
import java.util.Map;

import io.etcd.jetcd.Client;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.switchboard.api.hub.v1.DeregisterRequest;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static io.switchboard.hub.HubFixture.instance;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The instances a workload can make the registry hold: a cap per service (per identity) and in all, at the boundary;
 * an instance already held registers again; a place that frees up is taken again.
 */
@Timeout(value = 60, unit = SECONDS)
class HubRegistrationLimitsTest {
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void newInstancesBeyondTheServicesOrTheRegistrysCapAreRefusedAndAFreedPlaceIsTakenAgain() throws Exception {
        try (Client etcd = HubFixture.etcdClient(STACK.etcd().endpoint());
             HubFixture hub = HubFixture.withIdentities(STACK, STACK.etcd().endpoint(), Map.of(
                     "hub.max-instances", "3", "hub.max-instances-per-service", "2"))) {
            hub.clear(etcd);
            long post1 = register(hub, "post", "post-1");
            register(hub, "post", "post-2");
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.hub.instanceCount() == 2);
            // the service's third: refused, however the identity asks
            assertRefused(() -> register(hub, "post", "post-3"), "service post has its most instances (2");
            register(hub, "user", "user-1");
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.hub.instanceCount() == 3);
            // the registry's fourth
            assertRefused(() -> register(hub, "user", "user-2"), "the registry holds its most instances (3");
            // one that goes frees its place
            hub.stub("post").deregister(DeregisterRequest.newBuilder().setLeaseId(post1).build());
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.hub.instanceCount() == 2);
            register(hub, "post", "post-3");
            String metrics = hub.get("/observe/metrics").body();
            assertThat(metrics).containsPattern("switchboard_hub_refused_calls_total\\{[^}]*reason=\"instance-limit\"[^}]*} 2");
        }
    }

    private static long register(HubFixture hub, String service, String id) {
        return hub.stub(service).register(RegisterRequest.newBuilder().setInstance(instance(service, id, 9001))
                                                  .setTtlSeconds(30).build()).getLeaseId();
    }

    private static void assertRefused(Runnable call, String message) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }
}
