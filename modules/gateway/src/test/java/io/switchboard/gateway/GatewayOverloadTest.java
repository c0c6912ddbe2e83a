package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.LoginResponse;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Load shedding at its boundaries: with the backends holding every call, the gateway serves exactly
 * {@code gateway.limits.in-flight} requests at once and, of them, {@code gateway.limits.rate-limited-in-flight} logins;
 * the next one is answered 503 with Retry-After at once (not queued), counted by limit, and once calls end the
 * permits are back.
 */
@Timeout(value = 60, unit = SECONDS)
class GatewayOverloadTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void requestsBeyondALimitAreShedAtOnceAndTheRestAreServed() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger logins = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        Server user = STACK.start(Gateways.as("user", NettyServerBuilder.forPort(0), STACK)
                .addService(new UserServiceGrpc.UserServiceImplBase() {
                    @Override
                    public void login(LoginRequest request, StreamObserver<LoginResponse> responses) {
                        logins.incrementAndGet();
                        hold(release);
                        responses.onNext(LoginResponse.newBuilder().setToken("t").build());
                        responses.onCompleted();
                    }
                }).build().start(), Server::shutdownNow);
        Server post = STACK.start(Gateways.asPost(NettyServerBuilder.forPort(0), STACK)
                .addService(new PostServiceGrpc.PostServiceImplBase() {
                    @Override
                    public void getPost(GetPostRequest request, StreamObserver<Post> responses) {
                        reads.incrementAndGet();
                        hold(release);
                        responses.onNext(Post.newBuilder().setId(request.getId()).build());
                        responses.onCompleted();
                    }
                }).build().start(), Server::shutdownNow);
        GatewayServer gateway = Gateways.over(STACK, Map.of("gateway.limits.in-flight", "4",
                                                            "gateway.limits.rate-limited-in-flight", "2",
                                                            "gateway.login-limit.capacity", "1000",
                                                            "gateway.upstream.hedging-delay", "PT0S"),
                                              Instance.newBuilder().setService("user").setId("u1").setHost("127.0.0.1")
                                                      .setPort(user.getPort()).build(),
                                              Gateways.post("p1", post.getPort()));

        List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
        try {
            // two logins take the login share: the third is shed at once, and a read still gets in
            held.add(login(gateway));
            held.add(login(gateway));
            await().atMost(Duration.ofSeconds(5)).until(() -> logins.get() == 2);
            long start = System.nanoTime();
            HttpResponse<String> thirdLogin = login(gateway).get(5, TimeUnit.SECONDS);
            assertShed(thirdLogin, start);
            assertThat(thirdLogin.body()).contains("on this route");
            assertThat(logins.get()).isEqualTo(2);
            held.add(read(gateway, "a"));
            held.add(read(gateway, "b"));
            await().atMost(Duration.ofSeconds(5)).until(() -> reads.get() == 2);

            // four in flight, the limit: the fifth request, a read, is shed at once
            start = System.nanoTime();
            HttpResponse<String> fifth = read(gateway, "c").get(5, TimeUnit.SECONDS);
            assertShed(fifth, start);
            assertThat(fifth.body()).contains("as many requests as it may");
            assertThat(reads.get()).isEqualTo(2);
        } finally {
            release.countDown();
        }
        for (CompletableFuture<HttpResponse<String>> answer : held) {
            assertThat(answer.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
        // the permits are back
        assertThat(read(gateway, "d").get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(login(gateway).get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        String metrics = STACK.http().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + gateway.managementPort()
                                                                             + "/observe/metrics")).build(),
                                   HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).containsPattern("switchboard_gateway_shed_requests_total\\{limit=\"in-flight\",[^}]*} 1.0")
                .containsPattern("switchboard_gateway_shed_requests_total\\{limit=\"rate-limited-route\",[^}]*} 1.0");
    }

    private static void assertShed(HttpResponse<String> answer, long start) {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(503);
        assertThat(answer.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(answer.body()).contains("\"code\":\"UNAVAILABLE\"");
        // at once: not after waiting for a permit, nor after the route's 5 s deadline
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
    }

    private static CompletableFuture<HttpResponse<String>> login(GatewayServer gateway) {
        return HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/user/login"))
                                      .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                                      .POST(HttpRequest.BodyPublishers.ofString(
                                              "{\"phoneNumber\":\"+4915100000001\",\"userPassword\":\"password 1\"}"))
                                      .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static CompletableFuture<HttpResponse<String>> read(GatewayServer gateway, String id) {
        return HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/post/" + id))
                                      .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void hold(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
