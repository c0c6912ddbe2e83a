package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.health.HealthCheckResponse;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.server.ReadinessCheck;
import io.switchboard.server.Servers;
import io.switchboard.testkit.Stack;
import io.switchboard.testkit.TcpProxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An instance that dies or freezes after sending an answer's headers and before its message (Helidon's gRPC server
 * writes them apart): grpc-java's hedges and retries no longer apply once headers arrived, so the gateway retries the
 * idempotent call itself, on another instance, and the client never sees the death or waits out the deadline.
 */
@Timeout(value = 60, unit = SECONDS)
class GatewayRetryTest {
    @RegisterExtension
    static final Stack STACK = new Stack();
    private static final AtomicInteger IDS = new AtomicInteger();

    /* A faulty instance sends its answer's headers at once, before its service method runs. */
    private static final ServerInterceptor HEADERS_FIRST = new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                           ServerCallHandler<Q, R> next) {
            call.sendHeaders(new Metadata());
            return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                @Override
                public void sendHeaders(Metadata ignored) {
                }
            }, headers);
        }
    };

    @Test
    void aGetCutAfterTheAnswerHeadersIsAnsweredByAnotherInstance() throws Exception {
        AtomicInteger dyingCalls = new AtomicInteger();
        TcpProxy[] dyingLink = new TcpProxy[1];
        // the dying instance sends its headers, then its network goes (connections cut, new ones refused)
        Server dying = STACK.start(Gateways.asPost(NettyServerBuilder.forPort(0), STACK).addService(ServerInterceptors.intercept(
                new PostServiceGrpc.PostServiceImplBase() {
                    @Override
                    public void getPost(GetPostRequest request, StreamObserver<Post> responses) {
                        dyingCalls.incrementAndGet();
                        try {
                            Thread.sleep(300);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        dyingLink[0].cut();
                    }
                }, HEADERS_FIRST)).build().start(), Server::shutdownNow);
        Server healthy = healthy();
        dyingLink[0] = STACK.start(TcpProxy.start("127.0.0.1", dying.getPort()));
        GatewayServer gateway = Gateways.over(STACK, Gateways.post(unique("dying"), dyingLink[0].port()),
                                              Gateways.post(unique("healthy"), healthy.getPort()));
        HttpClient http = HttpClient.newHttpClient();

        // round robin: once the gateway knows both instances, one of the next calls lands on the dying one
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < 100 && dyingCalls.get() == 0; i++) {
            Thread.sleep(50);
            HttpResponse<String> answer = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/post/p" + i))
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            answers.add(answer.statusCode() + " " + answer.body());
        }

        assertThat(dyingCalls.get()).as("calls that reached the dying instance").isEqualTo(1);
        assertThat(answers).allMatch(a -> a.startsWith("200 ") && a.contains("from the healthy one"));
    }

    /* where the stalling instance stops: after its answer's headers, or after its message, before the trailers */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aGetStalledInItsAnswerIsAnsweredByAnotherInstanceLongBeforeTheDeadline(boolean afterTheMessage) throws Exception {
        AtomicInteger stalledCalls = new AtomicInteger();
        // the stalling instance begins its answer, then freezes for longer than the route's deadline (5 s)
        PostServiceGrpc.PostServiceImplBase stallingService = new PostServiceGrpc.PostServiceImplBase() {
            @Override
            public void getPost(GetPostRequest request, StreamObserver<Post> responses) {
                stalledCalls.incrementAndGet();
                Post post = Post.newBuilder().setId(request.getId()).setTitle("from the stalled one").build();
                if (afterTheMessage) {
                    responses.onNext(post);
                }
                try {
                    Thread.sleep(8_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (!afterTheMessage) {
                    responses.onNext(post);
                }
                responses.onCompleted();
            }
        };
        int stallingPort;
        if (afterTheMessage) {
            // Helidon's gRPC server (the platform's) writes a unary answer's message at once, its trailers later
            stallingPort = STACK.start(Servers.builder(Config.just(ConfigSources.create(Map.of("port", "0"))),
                                                       ReadinessCheck.of("up", () -> HealthCheckResponse.builder().build()),
                                                       STACK.identity("post"))
                                               .addRouting(GrpcRouting.builder().service(stallingService))
                                               .build().start(), WebServer::stop).port();
        } else {
            stallingPort = STACK.start(Gateways.asPost(NettyServerBuilder.forPort(0), STACK).addService(ServerInterceptors.intercept(
                    stallingService, HEADERS_FIRST)).build().start(), Server::shutdownNow).getPort();
        }
        GatewayServer gateway = Gateways.over(STACK, Gateways.post(unique("stalling"), stallingPort),
                                              Gateways.post(unique("healthy"), healthy().getPort()));
        HttpClient http = HttpClient.newHttpClient();

        List<String> answers = new ArrayList<>();
        long slowestMillis = 0;
        for (int i = 0; i < 100 && stalledCalls.get() == 0; i++) {
            Thread.sleep(50);
            long start = System.nanoTime();
            HttpResponse<String> answer = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/post/p" + i))
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            slowestMillis = Math.max(slowestMillis, Duration.ofNanos(System.nanoTime() - start).toMillis());
            answers.add(answer.statusCode() + " " + answer.body());
        }

        assertThat(stalledCalls.get()).as("calls that reached the stalling instance").isEqualTo(1);
        assertThat(answers).allMatch(a -> a.startsWith("200 ") && a.contains("from the healthy one"));
        // the stall limit is the hedging delay (0.3 s); the deadline would have been 5 s
        assertThat(slowestMillis).as("slowest answer, ms").isLessThan(2_000);
    }

    private static Server healthy() throws Exception {
        return STACK.start(Gateways.asPost(NettyServerBuilder.forPort(0), STACK).addService(new PostServiceGrpc.PostServiceImplBase() {
            @Override
            public void getPost(GetPostRequest request, StreamObserver<Post> responses) {
                responses.onNext(Post.newBuilder().setId(request.getId()).setTitle("from the healthy one").build());
                responses.onCompleted();
            }
        }).build().start(), Server::shutdownNow);
    }

    /* The tests share the stack's etcd, where an instance id stays taken while its registration lives (until the
     * last test): each registers its own. */
    private static String unique(String id) {
        return id + "-" + IDS.incrementAndGet();
    }
}
