package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backend slower than the route's deadline: the deadline reaches the backend, and the client gets 504 when it
 * passes, not a hung request.
 */
@Timeout(value = 60, unit = SECONDS)
class GatewayDeadlineTest {
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void aBackendSlowerThanTheDeadlineGives504AndSeesTheDeadline() throws Exception {
        AtomicLong deadlineSeenMillis = new AtomicLong(-1);
        Server slowPost = STACK.start(Gateways.asPost(NettyServerBuilder.forPort(0), STACK).addService(new PostServiceGrpc.PostServiceImplBase() {
            @Override
            public void getPost(GetPostRequest request, StreamObserver<Post> responses) {
                Deadline deadline = Context.current().getDeadline();
                deadlineSeenMillis.set(deadline == null ? 0 : deadline.timeRemaining(TimeUnit.MILLISECONDS));
                try {
                    Thread.sleep(8_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                responses.onNext(Post.newBuilder().setId(request.getId()).build());
                responses.onCompleted();
            }
        }).build().start(), Server::shutdownNow);
        GatewayServer gateway = Gateways.over(STACK, Gateways.post("slow-post", slowPost.getPort()));
        HttpClient http = HttpClient.newHttpClient();
        URI uri = URI.create("http://127.0.0.1:" + gateway.port() + "/post/some-id");

        long start = System.nanoTime();
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).build(),
                                                HttpResponse.BodyHandlers.ofString());
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(504);
        assertThat(answer.body()).contains("\"code\":\"DEADLINE_EXCEEDED\"");
        // grpc-java describes the deadline with the instance's address: clients never see it
        assertThat(answer.body()).doesNotContain("remote_addr").doesNotContain("127.0.0.1:" + slowPost.getPort());
        // the default route deadline is 5 s; GET is idempotent, but a deadline is not retried past itself
        assertThat(took).isBetween(Duration.ofMillis(4_500), Duration.ofMillis(7_000));
        assertThat(deadlineSeenMillis.get()).as("deadline the backend saw, ms").isBetween(3_000L, 5_000L);
    }
}
