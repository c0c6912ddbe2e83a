package io.switchboard.post;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.switchboard.api.post.v1.CreatePostRequest;
import io.switchboard.api.post.v1.DeletePostRequest;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.ListPostsRequest;
import io.switchboard.api.post.v1.ListPostsResponse;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.GetJwksRequest;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.LoginResponse;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.hub.HubServer;
import io.switchboard.testkit.Stack;
import io.switchboard.tokens.TokenVerifier;
import io.switchboard.user.UserServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@Timeout(value = 60, unit = SECONDS)
class PostApiTest {
    /** ListPosts' documented order: newest first; posts of the same millisecond by id, descending. */
    private static final Comparator<Post> NEWEST_FIRST = Comparator.comparing((Post p) -> Instant.parse(p.getCreatedAt()))
            .thenComparing(Post::getId).reversed();
    private static final AtomicInteger PHONES = new AtomicInteger(1_000_000);
    @RegisterExtension
    static final Stack STACK = new Stack();
    private static UserServer user;
    private static PostServer post;
    private static ManagedChannel userChannel;
    private static ManagedChannel postChannel;

    @BeforeAll
    static void start() {
        HubServer hub = STACK.start(HubServer.start(STACK.hubConfig()));
        user = STACK.start(UserServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        post = STACK.start(PostServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        userChannel = STACK.channel("gateway", "user", user.runtime().port());
        postChannel = STACK.channel("gateway", "post", post.runtime().port());
        await().atMost(Duration.ofSeconds(10)).until(() -> post.runtime().ready() && user.runtime().ready());
    }

    @Test
    void theAuthorIsTheVerifiedCaller() {
        LoginResponse alice = newUser();
        Post created = as(alice).createPost(CreatePostRequest.newBuilder().setTitle("Hello").setContent("World").build());
        assertThat(created.getAuthor()).isEqualTo(alice.getUserId());
        assertThat(created.getId()).isNotBlank();
        assertThat(Instant.parse(created.getCreatedAt())).isBeforeOrEqualTo(Instant.now());
        assertThat(anonymous().getPost(GetPostRequest.newBuilder().setId(created.getId()).build())).isEqualTo(created);

        assertCode(() -> anonymous().createPost(CreatePostRequest.newBuilder().setTitle("t").setContent("c").build()),
                   Status.Code.UNAUTHENTICATED);
    }

    @Test
    void aForgedTokenCannotPostAsSomeoneElse() throws Exception {
        LoginResponse victim = newUser();
        String kid = JWKSet.parse(UserServiceGrpc.newBlockingStub(userChannel).getJwks(GetJwksRequest.getDefaultInstance())
                                          .getJson()).getKeys().get(0).getKeyID();
        ECKey attacker = new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        SignedJWT forged = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(kid).build(),
                                         new JWTClaimsSet.Builder().subject(victim.getUserId())
                                                 .issuer(TokenVerifier.ISSUER)
                                                 .audience(TokenVerifier.AUDIENCE).issueTime(new Date())
                                                 .expirationTime(Date.from(Instant.now().plusSeconds(600)))
                                                 .jwtID(UUID.randomUUID().toString()).build());
        forged.sign(new ECDSASigner(attacker));
        assertCode(() -> withToken(forged.serialize()).createPost(CreatePostRequest.newBuilder().setTitle("pwned")
                                                                          .setContent("x").build()),
                   Status.Code.UNAUTHENTICATED);
        assertThat(anonymous().listPosts(ListPostsRequest.newBuilder().setAuthor(victim.getUserId()).build())
                           .getPostsList()).isEmpty();
    }

    @Test
    void titleAndContentRules() {
        LoginResponse author = newUser();
        PostServiceGrpc.PostServiceBlockingStub stub = as(author);
        for (String[] bad : new String[][] {{"", "c"}, {"   ", "c"}, {"t".repeat(201), "c"}, {"a\u0000b", "c"},
                                            {"line\nbreak", "c"}, {"t", ""}, {"t", "c".repeat(20_001)},
                                            {"t", "c".repeat(1_000_000)}, {"t", "bell\u0007"}}) {
            assertCode(() -> stub.createPost(CreatePostRequest.newBuilder().setTitle(bad[0]).setContent(bad[1]).build()),
                       Status.Code.INVALID_ARGUMENT);
        }
        assertThat(stub.createPost(CreatePostRequest.newBuilder().setTitle("é".repeat(200))
                                           .setContent("c".repeat(20_000)).build()).getTitle()).hasSize(200);
        assertThat(stub.createPost(CreatePostRequest.newBuilder().setTitle("<script>alert(1)</script>")
                                           .setContent("multi\nline\ttext").build()).getContent())
                .isEqualTo("multi\nline\ttext");
    }

    @Test
    void getPostAnswersNotFoundAndRejectsBadIds() {
        assertCode(() -> anonymous().getPost(GetPostRequest.newBuilder().setId(java.util.UUID.randomUUID().toString())
                                                     .build()), Status.Code.NOT_FOUND);
        for (String bad : new String[] {"", "../etc/passwd", "x".repeat(65), "1' OR '1'='1", "a/b"}) {
            assertCode(() -> anonymous().getPost(GetPostRequest.newBuilder().setId(bad).build()),
                       Status.Code.INVALID_ARGUMENT);
        }
    }

    @Test
    void listsNewestFirstInPagesThatStayStableWhilePostsAreAdded() {
        LoginResponse author = newUser();
        List<Post> created = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            created.add(as(author).createPost(CreatePostRequest.newBuilder().setTitle("p" + i).setContent("c").build()));
        }
        ListPostsResponse first = anonymous().listPosts(ListPostsRequest.newBuilder().setAuthor(author.getUserId())
                                                                 .setPageSize(3).build());
        List<String> seen = new ArrayList<>(first.getPostsList().stream().map(Post::getId).toList());
        // posts written while the client pages do not shift the pages
        List<Post> late = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            late.add(as(author).createPost(CreatePostRequest.newBuilder().setTitle("late" + i).setContent("c").build()));
        }
        String token = first.getNextPageToken();
        while (!token.isEmpty()) {
            ListPostsResponse page = anonymous().listPosts(ListPostsRequest.newBuilder().setAuthor(author.getUserId())
                                                                   .setPageSize(3).setPageToken(token).build());
            page.getPostsList().forEach(p -> seen.add(p.getId()));
            token = page.getNextPageToken();
        }
        // two posts of the same millisecond are in no particular creation order: the promise is the documented order
        assertThat(seen).containsExactlyElementsOf(created.stream().sorted(NEWEST_FIRST).map(Post::getId).toList());

        // all authors: the newest post is this author's latest
        assertThat(anonymous().listPosts(ListPostsRequest.newBuilder().setPageSize(1).build()).getPosts(0))
                .isEqualTo(late.stream().sorted(NEWEST_FIRST).findFirst().orElseThrow());
    }

    @Test
    void listRejectsBadPageSizesAndTokens() {
        LoginResponse author = newUser();
        for (int i = 0; i < 2; i++) {
            as(author).createPost(CreatePostRequest.newBuilder().setTitle("p").setContent("c").build());
        }
        assertThat(anonymous().listPosts(ListPostsRequest.newBuilder().setAuthor(author.getUserId()).build())
                           .getPostsCount()).isEqualTo(2);
        for (int size : new int[] {-1, 101, Integer.MAX_VALUE}) {
            assertCode(() -> anonymous().listPosts(ListPostsRequest.newBuilder().setPageSize(size).build()),
                       Status.Code.INVALID_ARGUMENT);
        }
        String token = anonymous().listPosts(ListPostsRequest.newBuilder().setAuthor(author.getUserId()).setPageSize(1)
                                                     .build()).getNextPageToken();
        assertThat(token).isNotEmpty();
        for (String bad : new String[] {"garbage", "!!!", "x".repeat(5000), token + "x"}) {
            assertCode(() -> anonymous().listPosts(ListPostsRequest.newBuilder().setAuthor(author.getUserId())
                                                           .setPageToken(bad).build()), Status.Code.INVALID_ARGUMENT);
        }
        // a token issued for one author's list is not valid for another query
        assertCode(() -> anonymous().listPosts(ListPostsRequest.newBuilder().setPageToken(token).build()),
                   Status.Code.INVALID_ARGUMENT);
        assertCode(() -> anonymous().listPosts(ListPostsRequest.newBuilder().setAuthor("<script>").build()),
                   Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void onlyTheAuthorDeletes() {
        LoginResponse author = newUser();
        LoginResponse other = newUser();
        String id = as(author).createPost(CreatePostRequest.newBuilder().setTitle("mine").setContent("c").build()).getId();
        DeletePostRequest delete = DeletePostRequest.newBuilder().setId(id).build();

        assertCode(() -> anonymous().deletePost(delete), Status.Code.UNAUTHENTICATED);
        assertCode(() -> as(other).deletePost(delete), Status.Code.PERMISSION_DENIED);
        assertThat(anonymous().getPost(GetPostRequest.newBuilder().setId(id).build()).getTitle()).isEqualTo("mine");

        as(author).deletePost(delete);
        assertCode(() -> anonymous().getPost(GetPostRequest.newBuilder().setId(id).build()), Status.Code.NOT_FOUND);
        assertCode(() -> as(author).deletePost(delete), Status.Code.NOT_FOUND);
    }

    private static LoginResponse newUser() {
        String phone = "+3361" + PHONES.incrementAndGet();
        UserServiceGrpc.UserServiceBlockingStub users = UserServiceGrpc.newBlockingStub(userChannel)
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        users.register(RegisterRequest.newBuilder().setPhoneNumber(phone).setUserPassword("password 123").build());
        return users.login(LoginRequest.newBuilder().setPhoneNumber(phone).setUserPassword("password 123").build());
    }

    private static PostServiceGrpc.PostServiceBlockingStub anonymous() {
        return PostServiceGrpc.newBlockingStub(postChannel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static PostServiceGrpc.PostServiceBlockingStub as(LoginResponse login) {
        return withToken(login.getToken());
    }

    private static PostServiceGrpc.PostServiceBlockingStub withToken(String token) {
        Metadata metadata = new Metadata();
        metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return anonymous().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata));
    }

    private static void assertCode(Runnable call, Status.Code code) {
        assertThatThrownBy(call::run).satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(code));
    }
}
