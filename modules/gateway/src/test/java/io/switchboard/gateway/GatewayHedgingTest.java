package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.RegisterResponse;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Hedging is for idempotent routes only: a slow GET is sent to a second instance, a slow POST never is.
 */
@Timeout(value = 60, unit = SECONDS)
class GatewayHedgingTest {
    @RegisterExtension
    static final Stack STACK = new Stack();
    /* Longer than the default hedging delay (0.3 s), shorter than the route deadline (5 s). */
    private static final long SLOW_MILLIS = 1_000;

    @Test
    void aSlowGetIsHedgedToTheOtherInstanceAndASlowPostIsSentOnce() throws Exception {
        AtomicInteger gets = new AtomicInteger();
        AtomicInteger registrations = new AtomicInteger();
        Instance[] instances = new Instance[4];
        for (int i = 0; i < 2; i++) {
            instances[i] = Gateways.post("slow-post-" + i, backend("post", gets, registrations).getPort());
            instances[2 + i] = Instance.newBuilder().setService("user").setId("slow-user-" + i).setHost("127.0.0.1")
                    .setPort(backend("user", gets, registrations).getPort()).build();
        }
        GatewayServer gateway = Gateways.over(STACK, instances);
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + gateway.port();

        HttpResponse<String> got = http.send(HttpRequest.newBuilder(URI.create(base + "/post/p1")).build(),
                                             HttpResponse.BodyHandlers.ofString());
        assertThat(got.statusCode()).as(got.body()).isEqualTo(200);
        // the control: an idempotent call slower than the hedging delay reaches a second instance
        await().atMost(Duration.ofSeconds(5)).until(() -> gets.get() == 2);

        HttpResponse<String> registered = http.send(
                HttpRequest.newBuilder(URI.create(base + "/user/register"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"phoneNumber\":\"+4915100000009\","
                                                                   + "\"userPassword\":\"long enough\"}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(registered.statusCode()).as(registered.body()).isEqualTo(201);
        // a registration is not idempotent: however slow, it reached one instance once, and nothing follows later
        await().during(Duration.ofMillis(SLOW_MILLIS * 2)).atMost(Duration.ofSeconds(5))
                .until(() -> registrations.get() == 1);
    }

    /* A backend with the identity of a service that serves both post's GetPost and user's Register, slowly, counting
     * calls. */
    private static Server backend(String service, AtomicInteger gets, AtomicInteger registrations) throws Exception {
        return STACK.start(Gateways.as(service, NettyServerBuilder.forPort(0), STACK)
                                   .addService(new PostServiceGrpc.PostServiceImplBase() {
                                       @Override
                                       public void getPost(GetPostRequest request, StreamObserver<Post> responses) {
                                           gets.incrementAndGet();
                                           pause();
                                           responses.onNext(Post.newBuilder().setId(request.getId()).build());
                                           responses.onCompleted();
                                       }
                                   })
                                   .addService(new UserServiceGrpc.UserServiceImplBase() {
                                       @Override
                                       public void register(RegisterRequest request,
                                                            StreamObserver<RegisterResponse> responses) {
                                           registrations.incrementAndGet();
                                           pause();
                                           responses.onNext(RegisterResponse.newBuilder().setUserId("u1").build());
                                           responses.onCompleted();
                                       }
                                   })
                                   .build().start(), Server::shutdownNow);
    }

    private static void pause() {
        try {
            Thread.sleep(SLOW_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
