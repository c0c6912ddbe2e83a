package io.switchboard.hub;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.switchboard.api.hub.v1.ListServicesRequest;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static io.switchboard.hub.HubFixture.instance;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@Timeout(value = 60, unit = SECONDS)
class HubAdmissionTest {
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void aCrowdOfRegistrationsBeyondTheLimitIsTurnedAwayWithUnavailableAndGrantsNothingForIt() throws Exception {
        try (HubFixture hub = HubFixture.start(STACK.etcd().endpoint(), Map.of("hub.max-concurrent-registrations", "1"));
             ExecutorService crowd = Executors.newVirtualThreadPerTaskExecutor()) {
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.get("/observe/health/ready").statusCode() == 200);
            List<Future<Status.Code>> calls = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                int n = i;
                calls.add(crowd.submit(() -> {
                    try {
                        hub.stub().register(RegisterRequest.newBuilder().setInstance(instance("orders", "o-" + n, 9001))
                                                    .setTtlSeconds(30).build());
                        return Status.Code.OK;
                    } catch (StatusRuntimeException e) {
                        return e.getStatus().getCode();
                    }
                }));
            }
            int registered = 0;
            int turnedAway = 0;
            for (Future<Status.Code> call : calls) {
                Status.Code code = call.get();
                assertThat(code).isIn(Status.Code.OK, Status.Code.UNAVAILABLE);
                if (code == Status.Code.OK) {
                    registered++;
                } else {
                    turnedAway++;
                }
            }
            assertThat(registered).isPositive();
            assertThat(turnedAway).isPositive();
            // a call turned away never reached etcd: one lease per registration, nothing else
            assertThat(STACK.etcd().leaseCount()).isEqualTo(registered);
            assertThat(hub.get("/observe/metrics").body())
                    .containsPattern("switchboard_hub_registrations_turned_away_total\\S* " + turnedAway + "\\.0");
            assertThat(hub.stub().listServices(ListServicesRequest.getDefaultInstance()).getServicesList())
                    .containsExactly("orders");
        }
    }
}
