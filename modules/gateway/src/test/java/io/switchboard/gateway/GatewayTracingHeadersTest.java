package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the gateway passes to the backend in gRPC metadata, seen by a backend that records every call's metadata:
 * the request id (the client's, or the one the gateway made and answered with) and the W3C {@code traceparent}.
 */
@Timeout(value = 60, unit = SECONDS)
class GatewayTracingHeadersTest {
    private static final Metadata.Key<String> REQUEST_ID = Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> TRACEPARENT = Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);
    private static final String TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final BlockingQueue<Metadata> SEEN = new LinkedBlockingQueue<>();

    @RegisterExtension
    static final Stack STACK = new Stack();
    private static GatewayServer gateway;

    @BeforeAll
    static void start() throws Exception {
        ServerInterceptor recorder = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                               ServerCallHandler<Q, R> next) {
                SEEN.add(headers);
                return next.startCall(call, headers);
            }
        };
        Server backend = STACK.start(Gateways.asPost(NettyServerBuilder.forPort(0), STACK).addService(ServerInterceptors.intercept(
                new PostServiceGrpc.PostServiceImplBase() {
                    @Override
                    public void getPost(GetPostRequest request, StreamObserver<Post> responses) {
                        responses.onNext(Post.newBuilder().setId(request.getId()).setTitle("recorded").build());
                        responses.onCompleted();
                    }
                }, recorder)).build().start(), Server::shutdownNow);
        gateway = Gateways.over(STACK, Gateways.post("recording-post", backend.getPort()));
        await().atMost(Duration.ofSeconds(10)).until(() -> get(Map.of()).statusCode() == 200);
        SEEN.clear();
    }

    @Test
    void theClientsRequestIdAndTraceparentReachTheBackend() throws Exception {
        HttpResponse<String> answer = get(Map.of("X-Request-Id", "client-chosen-7", "traceparent", TRACE));

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        Metadata seen = nextCall();
        assertThat(seen.get(REQUEST_ID)).isEqualTo("client-chosen-7");
        assertThat(seen.get(TRACEPARENT)).isEqualTo(TRACE);
        assertThat(answer.headers().firstValue("X-Request-Id")).hasValue("client-chosen-7");
    }

    @Test
    void aRequestWithoutAnIdReachesTheBackendWithTheIdTheGatewayAnswersWith() throws Exception {
        HttpResponse<String> answer = get(Map.of());

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        Metadata seen = nextCall();
        String made = answer.headers().firstValue("X-Request-Id").orElseThrow();
        assertThat(made).hasSize(36);
        assertThat(seen.get(REQUEST_ID)).isEqualTo(made);
        assertThat(seen.get(TRACEPARENT)).as("no traceparent is made up").isNull();
    }

    @Test
    void anInsaneRequestIdIsReplacedAndAnOversizedTraceparentIsNotPassedOn() throws Exception {
        HttpResponse<String> answer = get(Map.of("X-Request-Id", "x".repeat(500), "traceparent", "0".repeat(200)));

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        Metadata seen = nextCall();
        assertThat(seen.get(REQUEST_ID)).hasSize(36).isEqualTo(answer.headers().firstValue("X-Request-Id").orElseThrow());
        assertThat(seen.get(TRACEPARENT)).isNull();
    }

    private static Metadata nextCall() throws InterruptedException {
        Metadata seen = SEEN.poll(5, TimeUnit.SECONDS);
        assertThat(seen).as("a call reached the backend").isNotNull();
        assertThat(SEEN).as("one backend call per request").isEmpty();
        return seen;
    }

    private static HttpResponse<String> get(Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/post/p-1"))
                .timeout(Duration.ofSeconds(10));
        headers.forEach(request::header);
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
