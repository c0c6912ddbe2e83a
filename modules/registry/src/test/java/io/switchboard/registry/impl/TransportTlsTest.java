package io.switchboard.registry.impl;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.grpc.EquivalentAddressGroup;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.health.HealthCheckResponse;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.switchboard.identity.LocalCa;
import io.switchboard.identity.WorkloadTls;
import io.switchboard.server.ReadinessCheck;
import io.switchboard.server.Servers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The library's channels over mutual TLS: a channel named for a service reaches a server whose certificate names
 * that service, and no other (an address registered for {@code user} that leads to the hub gets no call).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TransportTlsTest {
    @TempDir
    Path directory;

    @Test
    void aChannelCallsOnlyAServerWhoseCertificateNamesTheServiceItWasMadeFor() throws Exception {
        LocalCa ca = LocalCa.openOrCreate(directory, "switchboard.local");
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("", ServingStatus.SERVING);
        try (WorkloadTls hubTls = WorkloadTls.load(ca.ensure("hub"), Duration.ofHours(1));
             WorkloadTls gatewayTls = WorkloadTls.load(ca.ensure("gateway"), Duration.ofHours(1))) {
            WebServer hub = Servers.builder(Config.just(ConfigSources.create(Map.of("port", "0"))),
                                            ReadinessCheck.of("ready", () -> HealthCheckResponse.builder().status(true).build()),
                                            hubTls)
                    .addRouting(GrpcRouting.builder().service(health.getHealthService()))
                    .build()
                    .start();
            AddressSource theHubsAddress = listener -> {
                listener.accept(List.of(new EquivalentAddressGroup(new InetSocketAddress("127.0.0.1", hub.port()))));
                return () -> { };
            };
            try {
                assertThat(check(Transport.channel("hub", theHubsAddress, gatewayTls).build()))
                        .isEqualTo(ServingStatus.SERVING);
                assertThatThrownBy(() -> check(Transport.channel("user", theHubsAddress, gatewayTls).build()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class,
                                                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
                assertThatThrownBy(() -> check(Transport.channel("hub", theHubsAddress, null).build()))
                        .as("plaintext to a TLS server").isInstanceOf(StatusRuntimeException.class);
            } finally {
                hub.stop();
            }
        }
    }

    private static ServingStatus check(ManagedChannel channel) {
        try {
            return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus();
        } finally {
            channel.shutdownNow();
        }
    }
}
