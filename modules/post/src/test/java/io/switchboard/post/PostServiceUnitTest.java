package io.switchboard.post;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

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
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.helidon.config.Config;
import io.switchboard.api.post.v1.CreatePostRequest;
import io.switchboard.api.post.v1.DeletePostRequest;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.ListPostsRequest;
import io.switchboard.api.post.v1.ListPostsResponse;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.post.v1.WatchPostsRequest;
import io.switchboard.api.post.v1.WatchPostsResponse;
import io.switchboard.post.posts.Posts;
import io.switchboard.tokens.Authentication;
import io.switchboard.tokens.TokenVerifier;
import io.switchboard.runtime.db.Database;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The post API over grpc-java's in-process transport, on an SQLite file in a temporary directory, with callers
 * identified by the real {@link Authentication} interceptor over a test signing key.
 */
@Timeout(30)
class PostServiceUnitTest {
    private static final String TITLE_RULE = "title must be 1..200 characters and not blank";
    private static final String CONTENT_RULE = "content must be 1..20000 characters and not blank";
    private static final String BAD_TOKEN = "pageToken is not one this service issued for this query";

    @TempDir
    static Path dataDir;

    private static ECKey key;
    private static Database database;
    private static PostFeed feed;
    private static Server server;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() throws Exception {
        key = new ECKeyGenerator(Curve.P_256).keyID("test").generate();
        TokenVerifier verifier = new TokenVerifier(() -> new JWKSet(key.toPublicJWK()));
        database = Database.open(Config.empty(), dataDir, "post", Posts.MIGRATIONS);
        feed = new PostFeed(new Posts(database), 3, Duration.ofMillis(50));
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .addService(ServerInterceptors.intercept(new PostService(new Posts(database), feed),
                                                         new Authentication(verifier)))
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        feed.close();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        database.close();
    }

    // --- callers

    @Test
    void createAndDeleteWithoutATokenAreUnauthenticatedWhateverTheInput() {
        for (CreatePostRequest request : List.of(create("t", "c"), create("", ""))) {
            assertStatus(() -> anonymous().createPost(request), Status.Code.UNAUTHENTICATED, "bearer token");
        }
        for (String id : List.of("00000000-0000-0000-0000-000000000000", "../x")) {
            assertStatus(() -> anonymous().deletePost(DeletePostRequest.newBuilder().setId(id).build()),
                         Status.Code.UNAUTHENTICATED, "bearer token");
        }
    }

    @Test
    void aTokenThatDoesNotVerifyIsUnauthenticatedEvenWhereNoneIsNeeded() throws Exception {
        ECKey foreign = new ECKeyGenerator(Curve.P_256).keyID("test").generate();
        PostServiceGrpc.PostServiceBlockingStub forged = withAuthorization("Bearer " + token(foreign, "u1"));

        assertStatus(() -> forged.createPost(create("t", "c")), Status.Code.UNAUTHENTICATED, "bad token signature");
        assertStatus(() -> forged.listPosts(ListPostsRequest.getDefaultInstance()), Status.Code.UNAUTHENTICATED,
                     "bad token signature");
        assertStatus(() -> withAuthorization("Basic dTpw").createPost(create("t", "c")), Status.Code.UNAUTHENTICATED,
                     "a bearer token is required");
    }

    @Test
    void theAuthorOfANewPostIsTheVerifiedCaller() throws Exception {
        Post post = as("author-1").createPost(create("Hello", "first\nsecond\r\n\tindented"));

        assertThat(post.getAuthor()).isEqualTo("author-1");
        assertThat(post.getTitle()).isEqualTo("Hello");
        assertThat(post.getContent()).isEqualTo("first\nsecond\r\n\tindented");
        assertThat(post.getId()).matches("[A-Za-z0-9-]{1,64}");
        assertThat(Instant.parse(post.getCreatedAt())).isBeforeOrEqualTo(Instant.now());
        assertThat(anonymous().getPost(GetPostRequest.newBuilder().setId(post.getId()).build())).isEqualTo(post);
    }

    // --- title and content

    @Test
    void aTitleOf200CharactersPassesAnd201Fail() throws Exception {
        PostServiceGrpc.PostServiceBlockingStub user = as("titles");

        assertThat(user.createPost(create("t".repeat(200), "c")).getTitle()).hasSize(200);
        assertStatus(() -> user.createPost(create("t".repeat(201), "c")), Status.Code.INVALID_ARGUMENT, TITLE_RULE);
    }

    @Test
    void lengthsAreCountedInCharactersNotUtf16Units() throws Exception {
        PostServiceGrpc.PostServiceBlockingStub user = as("emoji");
        String emoji = "\ud83d\ude00";

        assertThat(user.createPost(create(emoji.repeat(200), "c")).getTitle()).isEqualTo(emoji.repeat(200));
        assertStatus(() -> user.createPost(create(emoji.repeat(201), "c")), Status.Code.INVALID_ARGUMENT, TITLE_RULE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "   ", "\u3000", "\t"})
    void anEmptyOrBlankTitleIsRefused(String title) throws Exception {
        assertStatus(() -> as("u").createPost(create(title, "c")), Status.Code.INVALID_ARGUMENT, "title must be");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\nb", "a\rb", "a\tb", "a\u0000b", "a\u001bb", "a\u007fb", "a\u0085b"})
    void aTitleWithAControlCharacterIsRefused(String title) throws Exception {
        assertStatus(() -> as("u").createPost(create(title, "c")), Status.Code.INVALID_ARGUMENT,
                     "title must not contain control characters");
    }

    @Test
    void contentOf20000CharactersPassesAnd20001Fail() throws Exception {
        PostServiceGrpc.PostServiceBlockingStub user = as("contents");

        assertThat(user.createPost(create("t", "c".repeat(20_000))).getContent()).hasSize(20_000);
        assertStatus(() -> user.createPost(create("t", "c".repeat(20_001))), Status.Code.INVALID_ARGUMENT, CONTENT_RULE);
        assertStatus(() -> user.createPost(create("t", "")), Status.Code.INVALID_ARGUMENT, CONTENT_RULE);
        assertStatus(() -> user.createPost(create("t", " \n\t")), Status.Code.INVALID_ARGUMENT, CONTENT_RULE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\u0000b", "a\u001bb", "a\u0007b", "a\u0085b"})
    void contentMayHaveLineBreaksAndTabsButNoOtherControlCharacter(String content) throws Exception {
        assertStatus(() -> as("u").createPost(create("t", content)), Status.Code.INVALID_ARGUMENT,
                     "content must not contain control characters");
    }

    // --- listing

    @ParameterizedTest
    @ValueSource(ints = {-1, 101, Integer.MIN_VALUE, Integer.MAX_VALUE})
    void aPageSizeOutside1To100IsRefused(int size) {
        assertStatus(() -> anonymous().listPosts(ListPostsRequest.newBuilder().setPageSize(size).build()),
                     Status.Code.INVALID_ARGUMENT, "pageSize must be 1..100, got " + size);
    }

    @Test
    void pageSizesAtTheBoundsAndTheDefaultAreServed() throws Exception {
        PostServiceGrpc.PostServiceBlockingStub user = as("sizes");
        for (int i = 0; i < 22; i++) {
            user.createPost(create("p" + i, "c"));
        }

        assertThat(list("sizes", 1, "").getPostsCount()).isEqualTo(1);
        assertThat(list("sizes", 100, "").getPostsCount()).isEqualTo(22);
        assertThat(list("sizes", 0, "").getPostsCount()).isEqualTo(20);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a b", "a/b", "../x", "a%20", "\u00e9", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    void anAuthorFilterThatIsNotAUserIdIsRefused(String author) {
        assertStatus(() -> list(author, 10, ""), Status.Code.INVALID_ARGUMENT, "author must be a user id");
    }

    @Test
    void anAuthorFilterOf64CharactersIsAccepted() {
        assertThat(list("a".repeat(64), 10, "").getPostsList()).isEmpty();
    }

    @Test
    void pagesFollowTheirTokensWithoutRepeatsOrGaps() throws Exception {
        PostServiceGrpc.PostServiceBlockingStub user = as("pager");
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            created.add(user.createPost(create("p" + i, "c")).getId());
        }

        List<String> seen = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            ListPostsResponse page = list("pager", 2, token);
            page.getPostsList().forEach(p -> seen.add(p.getId()));
            token = page.getNextPageToken();
            pages++;
        } while (!token.isEmpty() && pages < 10);

        assertThat(pages).isEqualTo(3);
        assertThat(seen).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(created);
    }

    @Test
    void aPageTokenOnlyServesTheQueryItWasIssuedFor() throws Exception {
        PostServiceGrpc.PostServiceBlockingStub user = as("issuer");
        for (int i = 0; i < 3; i++) {
            user.createPost(create("p" + i, "c"));
        }
        String token = list("issuer", 1, "").getNextPageToken();
        assertThat(token).isNotEmpty();

        assertThat(list("issuer", 1, token).getPostsCount()).isEqualTo(1);
        assertStatus(() -> list("", 1, token), Status.Code.INVALID_ARGUMENT, BAD_TOKEN);
        assertStatus(() -> list("someone-else", 1, token), Status.Code.INVALID_ARGUMENT, BAD_TOKEN);
    }

    @ParameterizedTest
    @ValueSource(strings = {"x", "!!!", "%%%", "p1:1:x:0", "====", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                            "\u0000"})
    void aGarbagePageTokenIsRefused(String token) {
        assertStatus(() -> list("", 10, token), Status.Code.INVALID_ARGUMENT, BAD_TOKEN);
    }

    @ParameterizedTest
    @ValueSource(strings = {"p1:abc:x:0", "p2:1:x:0", "p1:1:x", "p1:1:x:0:extra", "p1:1:x:1", "p1:99999999999999999999:x:0"})
    void aWellEncodedPageTokenWithTheWrongContentIsRefused(String plain) {
        // "" hashes to 0: the last part binds these tokens to the unfiltered list where it is 0
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));

        assertStatus(() -> list("", 10, token), Status.Code.INVALID_ARGUMENT, BAD_TOKEN);
    }

    @Test
    void aVeryLongPageTokenIsRefusedBeforeDecoding() {
        String plain = "p1:1:" + "x".repeat(300) + ":0";
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));

        assertStatus(() -> list("", 10, token), Status.Code.INVALID_ARGUMENT, BAD_TOKEN);
    }

    // --- ids

    @ParameterizedTest
    @ValueSource(strings = {"", "a b", "a/b", "../x", "..", "%2e%2e", "a\u0000", "\u00e9",
                            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    void anIdThatIsNotAPostIdIsRefusedByGetAndDelete(String id) throws Exception {
        assertStatus(() -> anonymous().getPost(GetPostRequest.newBuilder().setId(id).build()),
                     Status.Code.INVALID_ARGUMENT, "id must be a post id");
        assertStatus(() -> as("u").deletePost(DeletePostRequest.newBuilder().setId(id).build()),
                     Status.Code.INVALID_ARGUMENT, "id must be a post id");
    }

    @Test
    void aWellFormedIdOfNoPostIsNotFound() throws Exception {
        String id = "a".repeat(64);

        assertStatus(() -> anonymous().getPost(GetPostRequest.newBuilder().setId(id).build()), Status.Code.NOT_FOUND,
                     "no post with that id");
        assertStatus(() -> as("u").deletePost(DeletePostRequest.newBuilder().setId(id).build()), Status.Code.NOT_FOUND,
                     "no post with that id");
    }

    @Test
    void onlyTheAuthorDeletesAPostAndOnlyOnce() throws Exception {
        Post post = as("owner").createPost(create("mine", "c"));
        DeletePostRequest delete = DeletePostRequest.newBuilder().setId(post.getId()).build();

        assertStatus(() -> as("intruder").deletePost(delete), Status.Code.PERMISSION_DENIED, "only the author");
        assertThat(anonymous().getPost(GetPostRequest.newBuilder().setId(post.getId()).build())).isEqualTo(post);

        as("owner").deletePost(delete);
        assertStatus(() -> anonymous().getPost(GetPostRequest.newBuilder().setId(post.getId()).build()),
                     Status.Code.NOT_FOUND, "no post with that id");
        assertStatus(() -> as("owner").deletePost(delete), Status.Code.NOT_FOUND, "no post with that id");
    }

    // --- the feed of new posts

    @Test
    @Timeout(30)
    void watchersGetEachNewPostOnceInOrderAndResumeAfterACursor() throws Exception {
        Watcher all = watch("", "");
        Watcher mine = watch("feed-author", "");
        List<Post> created = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            created.add(as(i % 2 == 0 ? "feed-author" : "feed-other").createPost(create("feed " + i, "c")));
        }
        List<WatchPostsResponse> seen = all.take(6);
        assertThat(seen).extracting(WatchPostsResponse::getPost).containsExactlyElementsOf(created);
        assertThat(seen).extracting(m -> Long.parseLong(m.getCursor())).isSorted().doesNotHaveDuplicates();
        assertThat(mine.take(3)).extracting(WatchPostsResponse::getPost)
                .containsExactly(created.get(0), created.get(2), created.get(4));
        assertThat(all.next(300)).as("nothing more").isNull();
        all.cancel();
        mine.cancel();

        // resumed after the second message: the four after it, and then what comes next
        Watcher resumed = watch("", seen.get(1).getCursor());
        assertThat(resumed.take(4)).extracting(WatchPostsResponse::getPost).containsExactlyElementsOf(created.subList(2, 6));
        Post later = as("feed-other").createPost(create("later", "c"));
        assertThat(resumed.take(1)).extracting(WatchPostsResponse::getPost).containsExactly(later);
        resumed.cancel();
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "-1", "1.5", "12345678901234567890", " 1", "99999999999999999"})
    void aCursorTheFeedNeverGaveIsRefused(String after) throws Exception {
        Watcher watcher = watch("", after);
        StatusRuntimeException error = watcher.failure();
        assertThat(error.getStatus().getCode()).isIn(Status.Code.INVALID_ARGUMENT, Status.Code.OUT_OF_RANGE);
        assertThat(error.getStatus().getDescription()).contains("after");
    }

    @Test
    void aMalformedAuthorIsRefused() throws Exception {
        StatusRuntimeException error = watch("../x", "").failure();
        assertThat(error.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(error.getStatus().getDescription()).contains("author must be a user id");
    }

    @Test
    @Timeout(30)
    void streamsBeyondTheLimitAreRefusedAndACancelledOneFreesItsPlace() throws Exception {
        List<Watcher> open = new ArrayList<>();
        // the limit is 3; a stream that another test cancelled may still be leaving
        while (open.size() < 3) {
            Watcher watcher = watch("", "");
            if (watcher.next(100) == null && watcher.error == null) {
                open.add(watcher);
            } else {
                Thread.sleep(50);
            }
        }
        StatusRuntimeException refused = watch("", "").failure();
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        open.get(0).cancel();
        Watcher again = null;
        for (int i = 0; i < 100 && again == null; i++) {
            Watcher watcher = watch("", "");
            if (watcher.next(100) == null && watcher.error == null) {
                again = watcher;
            }
        }
        assertThat(again).as("a stream after one was cancelled").isNotNull();
        Post post = as("feed-author").createPost(create("to the survivors", "c"));
        assertThat(again.take(1)).extracting(WatchPostsResponse::getPost).containsExactly(post);
        again.cancel();
        open.subList(1, 3).forEach(Watcher::cancel);
    }

    private static Watcher watch(String author, String after) {
        Watcher watcher = new Watcher();
        PostServiceGrpc.newStub(channel).watchPosts(WatchPostsRequest.newBuilder().setAuthor(author).setAfter(after)
                                                            .build(), watcher);
        return watcher;
    }

    /* A stream's messages as they come. */
    private static final class Watcher implements ClientResponseObserver<WatchPostsRequest, WatchPostsResponse> {
        private final BlockingQueue<WatchPostsResponse> messages = new LinkedBlockingQueue<>();
        private final CountDownLatch ended = new CountDownLatch(1);
        private volatile ClientCallStreamObserver<WatchPostsRequest> call;
        private volatile StatusRuntimeException error;

        @Override
        public void beforeStart(ClientCallStreamObserver<WatchPostsRequest> requestStream) {
            call = requestStream;
        }

        @Override
        public void onNext(WatchPostsResponse value) {
            messages.add(value);
        }

        @Override
        public void onError(Throwable t) {
            error = t instanceof StatusRuntimeException e ? e : Status.fromThrowable(t).asRuntimeException();
            ended.countDown();
        }

        @Override
        public void onCompleted() {
            ended.countDown();
        }

        WatchPostsResponse next(long millis) throws InterruptedException {
            return messages.poll(millis, TimeUnit.MILLISECONDS);
        }

        List<WatchPostsResponse> take(int count) throws InterruptedException {
            List<WatchPostsResponse> taken = new ArrayList<>();
            while (taken.size() < count) {
                WatchPostsResponse message = next(10_000);
                assertThat(message).as("message %d of %d (stream error: %s)", taken.size() + 1, count, error).isNotNull();
                taken.add(message);
            }
            return taken;
        }

        StatusRuntimeException failure() throws InterruptedException {
            assertThat(ended.await(10, TimeUnit.SECONDS)).as("the stream ended").isTrue();
            assertThat(error).as("the stream failed").isNotNull();
            return error;
        }

        void cancel() {
            call.cancel("done", null);
        }
    }

    private static ListPostsResponse list(String author, int size, String token) {
        return anonymous().listPosts(ListPostsRequest.newBuilder().setAuthor(author).setPageSize(size)
                                             .setPageToken(token).build());
    }

    private static CreatePostRequest create(String title, String content) {
        return CreatePostRequest.newBuilder().setTitle(title).setContent(content).build();
    }

    private static PostServiceGrpc.PostServiceBlockingStub anonymous() {
        return PostServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static PostServiceGrpc.PostServiceBlockingStub as(String userId) throws Exception {
        return withAuthorization("Bearer " + token(key, userId));
    }

    private static PostServiceGrpc.PostServiceBlockingStub withAuthorization(String authorization) {
        Metadata headers = new Metadata();
        headers.put(Authentication.AUTHORIZATION, authorization);
        return anonymous().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private static String token(ECKey signer, String subject) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(signer.getKeyID()).build(),
                                      new JWTClaimsSet.Builder().subject(subject).issuer(TokenVerifier.ISSUER)
                                              .audience(TokenVerifier.AUDIENCE).issueTime(new Date())
                                              .expirationTime(Date.from(Instant.now().plusSeconds(300)))
                                              .jwtID(UUID.randomUUID().toString()).build());
        jwt.sign(new ECDSASigner(signer));
        return jwt.serialize();
    }

    private static void assertStatus(ThrowingCallable call, Status.Code code, String fragment) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(fragment);
        });
    }
}
