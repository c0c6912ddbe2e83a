package io.switchboard.server.grpc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.BindableService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.health.HealthCheckResponse;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.switchboard.server.ReadinessCheck;
import io.switchboard.server.Servers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A service's call limit at its boundary, on a real Helidon gRPC server over TCP: with every call held, the limit's
 * calls are served, the next is refused UNAVAILABLE at once and counted, health calls still answer, and the permits
 * come back when calls end or are cancelled.
 */
@Timeout(30)
class CallLimitTest {
    private static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    private static final MethodDescriptor<String, String> HOLD = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Held/Hold")
            .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();
    private static final MethodDescriptor<String, String> FOLLOW = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.SERVER_STREAMING).setFullMethodName("test.Held/Follow")
            .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();

    @Test
    void theLimitsCallsAreServedTheNextIsRefusedAtOnceAndThePermitsComeBack() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        BindableService held = () -> ServerServiceDefinition.builder("test.Held")
                // answered as the services answer: a call cancelled meanwhile (call 2 below) gets no answer written, which
                // Helidon 4.5 would take for a protocol error and close the connection with the calls still on it
                .addMethod(HOLD, ServerCalls.asyncUnaryCall((request, responses) -> Unary.answer(responses, () -> {
                    started.incrementAndGet();
                    try {
                        release.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return "done " + request;
                })))
                // a stream lasts as long as its client follows: it takes no permit
                .addMethod(FOLLOW, ServerCalls.asyncServerStreamingCall((request, responses) -> {
                    responses.onNext("following " + request);
                    Thread.ofVirtual().start(() -> {
                        try {
                            release.await(20, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        responses.onCompleted();
                    });
                })).build();
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("", ServingStatus.SERVING);
        WebServer server = Servers.builder(Config.just(ConfigSources.create(Map.of("port", "0"))),
                                           ReadinessCheck.of("ready", () -> HealthCheckResponse.builder().status(true).build()))
                .addRouting(GrpcRouting.builder().intercept(new CallLimit("test", 2))
                                    .service(health.getHealthService()).service(held))
                .build().start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        try {
            List<ListenableFuture<String>> calls = new ArrayList<>();
            calls.add(call(channel, "1"));
            calls.add(call(channel, "2"));
            await().atMost(Duration.ofSeconds(5)).until(() -> started.get() == 2);

            long start = System.nanoTime();
            assertThatThrownBy(() -> call(channel, "3").get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .satisfies(e -> {
                        Status status = Status.fromThrowable(e);
                        assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(status.getDescription()).isEqualTo("test serves as many calls as it may");
                    });
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            assertThat(started.get()).isEqualTo(2);
            // health is never refused: probes and balancers still hear from a busy instance
            assertThat(HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                               .check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(ServingStatus.SERVING);
            // nor is a server-streaming call, which the service caps itself
            var follow = ClientCalls.blockingServerStreamingCall(channel, FOLLOW,
                                                                 CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                                                                 "a");
            assertThat(follow.next()).isEqualTo("following a");

            // a cancelled call gives its permit back though its handler still runs
            calls.get(1).cancel(true);
            ListenableFuture<String> afterCancel = call(channel, "4");
            await().atMost(Duration.ofSeconds(5)).until(() -> started.get() == 3);

            release.countDown();
            assertThat(calls.get(0).get(10, TimeUnit.SECONDS)).isEqualTo("done 1");
            assertThat(afterCancel.get(10, TimeUnit.SECONDS)).isEqualTo("done 4");
            // and ended calls give theirs back: two more at once are served
            ListenableFuture<String> five = call(channel, "5");
            ListenableFuture<String> six = call(channel, "6");
            assertThat(five.get(10, TimeUnit.SECONDS)).isEqualTo("done 5");
            assertThat(six.get(10, TimeUnit.SECONDS)).isEqualTo("done 6");

            try (HttpClient http = HttpClient.newHttpClient()) {
                String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port(Servers.MANAGEMENT)
                                                                             + "/observe/metrics")).build(),
                                           HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).containsPattern("switchboard_rpc_refused_calls_total\\{reason=\"limit\",[^}]*} 1.0");
            }
        } finally {
            release.countDown();
            channel.shutdownNow();
            server.stop();
        }
    }

    @Test
    void aLimitBelowOneIsRefusedAtStart() {
        assertThatThrownBy(() -> new CallLimit("test", 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("limits.calls must be at least 1");
    }

    private static ListenableFuture<String> call(ManagedChannel channel, String text) {
        return ClientCalls.futureUnaryCall(channel.newCall(HOLD, CallOptions.DEFAULT.withDeadlineAfter(15, TimeUnit.SECONDS)),
                                           text);
    }
}
