package io.switchboard.it;

import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.switchboard.api.post.v1.CreatePostRequest;
import io.switchboard.api.post.v1.DeletePostRequest;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.ListPostsRequest;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.LoginResponse;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.hub.HubServer;
import io.switchboard.post.PostServer;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.PostgresServer;
import io.switchboard.user.UserServer;
import io.switchboard.user.tokens.SigningKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Two instances of each business service sharing one PostgreSQL database per service: started together (their
 * schema migrations race), each sees what the other wrote.
 */
@Timeout(value = 120, unit = SECONDS)
class SharedPostgresTest {

    @Test
    void twoInstancesOfEachServiceShareAPostgresDatabase() throws Exception {
        try (PostgresServer postgres = PostgresServer.start(); EtcdServer etcd = EtcdServer.start()) {
            String users = postgres.createDatabase("users");
            String posts = postgres.createDatabase("posts");
            HubServer hub = HubServer.start(Config.just(ConfigSources.create(Map.of("server.port", "0",
                                                                                    "etcd.endpoints", etcd.endpoint(),
                                                                                    "tls.local-ca", Components.CA.toString()))));
            // every user instance signs with the same key (in Kubernetes, one Secret)
            String signingKey = SigningKeys.generate().toJSONString();
            Map<String, String> userSettings = Map.of("db.url", users, "db.user", PostgresServer.USER,
                                                      "user.signing-key", signingKey);
            Map<String, String> postSettings = Map.of("db.url", posts, "db.user", PostgresServer.USER);
            // started at the same time: their schema migrations race
            List<UserServer> userServers = startTogether(2, () -> UserServer.start(config(hub, userSettings)));
            List<PostServer> postServers = startTogether(2, () -> PostServer.start(config(hub, postSettings)));
            List<ManagedChannel> channels = List.of(
                    channel("user", userServers.get(0).runtime().port()), channel("user", userServers.get(1).runtime().port()),
                    channel("post", postServers.get(0).runtime().port()), channel("post", postServers.get(1).runtime().port()));
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> postServers.stream().allMatch(p -> p.runtime().ready()));
                UserServiceGrpc.UserServiceBlockingStub userA = UserServiceGrpc.newBlockingStub(channels.get(0))
                        .withDeadlineAfter(10, TimeUnit.SECONDS);
                UserServiceGrpc.UserServiceBlockingStub userB = UserServiceGrpc.newBlockingStub(channels.get(1))
                        .withDeadlineAfter(10, TimeUnit.SECONDS);

                userA.register(RegisterRequest.newBuilder().setPhoneNumber("+4930123456").setUserPassword("password 1").build());
                assertThatThrownBy(() -> userB.register(RegisterRequest.newBuilder().setPhoneNumber("+49 30 123456")
                                                                .setUserPassword("password 2").build()))
                        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.ALREADY_EXISTS));
                LoginResponse login = userB.login(LoginRequest.newBuilder().setPhoneNumber("+4930123456")
                                                          .setUserPassword("password 1").build());

                PostServiceGrpc.PostServiceBlockingStub postA = PostServiceGrpc.newBlockingStub(channels.get(2))
                        .withInterceptors(Components.bearer(login.getToken())).withDeadlineAfter(10, TimeUnit.SECONDS);
                PostServiceGrpc.PostServiceBlockingStub postB = PostServiceGrpc.newBlockingStub(channels.get(3))
                        .withInterceptors(Components.bearer(login.getToken())).withDeadlineAfter(10, TimeUnit.SECONDS);
                Post written = postA.createPost(CreatePostRequest.newBuilder().setTitle("shared").setContent("db").build());
                assertThat(written.getAuthor()).isEqualTo(login.getUserId());
                assertThat(postB.getPost(GetPostRequest.newBuilder().setId(written.getId()).build())).isEqualTo(written);
                assertThat(postB.listPosts(ListPostsRequest.newBuilder().setAuthor(login.getUserId()).build())
                                   .getPostsList()).containsExactly(written);
                postB.deletePost(DeletePostRequest.newBuilder().setId(written.getId()).build());
                assertThatThrownBy(() -> postA.getPost(GetPostRequest.newBuilder().setId(written.getId()).build()))
                        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND));
            } finally {
                channels.forEach(ManagedChannel::shutdownNow);
                postServers.forEach(PostServer::close);
                userServers.forEach(UserServer::close);
                hub.close();
            }
        }
    }

    private static <T> List<T> startTogether(int count, java.util.function.Supplier<T> start) {
        List<CompletableFuture<T>> starts = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            starts.add(CompletableFuture.supplyAsync(start));
        }
        return starts.stream().map(CompletableFuture::join).toList();
    }

    private static Config config(HubServer hub, Map<String, String> extra) {
        try {
            Map<String, String> settings = new HashMap<>(Map.of("server.port", "0",
                                                                "hub.endpoints", "127.0.0.1:" + hub.port(),
                                                                "registry.ttl", "2",
                                                                "data.dir", Files.createTempDirectory("pg-it-").toString(),
                                                                "tls.local-ca", Components.CA.toString()));
            settings.putAll(extra);
            return Config.just(ConfigSources.create(settings));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static ManagedChannel channel(String service, int port) {
        return Components.channel("gateway", service, port);
    }
}
