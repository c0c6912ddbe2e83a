package io.switchboard.comment;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.switchboard.api.comment.v1.Comment;
import io.switchboard.api.comment.v1.CommentServiceGrpc;
import io.switchboard.api.comment.v1.CreateCommentRequest;
import io.switchboard.api.comment.v1.DeleteCommentRequest;
import io.switchboard.api.comment.v1.ListCommentsRequest;
import io.switchboard.api.comment.v1.ListCommentsResponse;
import io.switchboard.api.post.v1.CreatePostRequest;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.LoginResponse;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.hub.HubServer;
import io.switchboard.post.PostServer;
import io.switchboard.testkit.Stack;
import io.switchboard.user.UserServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The comment service over gRPC, with real user, post and hub processes' servers and mutual TLS: comments are made
 * only on posts the post service has, by the verified caller, listed oldest first in stable pages, deleted only by
 * their author.
 */
@Timeout(value = 60, unit = SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CommentApiTest {
    /** ListComments' documented order: oldest first; comments of the same millisecond by id. */
    private static final Comparator<Comment> OLDEST_FIRST =
            Comparator.comparing((Comment c) -> Instant.parse(c.getCreatedAt())).thenComparing(Comment::getId);
    private static final AtomicInteger PHONES = new AtomicInteger(2_000_000);
    @RegisterExtension
    static final Stack STACK = new Stack();
    private static PostServer post;
    private static CommentServer comment;
    private static ManagedChannel userChannel;
    private static ManagedChannel postChannel;
    private static ManagedChannel commentChannel;

    @BeforeAll
    static void start() {
        HubServer hub = STACK.start(HubServer.start(STACK.hubConfig()));
        UserServer user = STACK.start(UserServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        post = STACK.start(PostServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        comment = STACK.start(CommentServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        userChannel = STACK.channel("gateway", "user", user.runtime().port());
        postChannel = STACK.channel("gateway", "post", post.runtime().port());
        commentChannel = STACK.channel("gateway", "comment", comment.runtime().port());
        await().atMost(Duration.ofSeconds(10)).until(() -> comment.runtime().ready() && post.runtime().ready()
                                                           && user.runtime().ready());
    }

    @Test
    void aCommentIsTheVerifiedCallersOnAPostThatExists() {
        LoginResponse alice = newUser();
        String postId = newPost(alice);
        LoginResponse bob = newUser();
        // what the client says of the id, the post and the author is not what the service keeps
        Comment sent = Comment.newBuilder().setId("mine").setPostId("elsewhere").setAuthor(alice.getUserId())
                .setCreatedAt("1970-01-01T00:00:00Z").setText("Nice post").build();
        Comment created = as(bob).createComment(CreateCommentRequest.newBuilder().setPostId(postId).setComment(sent)
                                                        .build());

        assertThat(created.getAuthor()).isEqualTo(bob.getUserId());
        assertThat(created.getPostId()).isEqualTo(postId);
        assertThat(created.getText()).isEqualTo("Nice post");
        assertThat(UUID.fromString(created.getId())).isNotNull();
        assertThat(Instant.parse(created.getCreatedAt())).isBetween(Instant.now().minusSeconds(60), Instant.now());
        assertThat(list(ListCommentsRequest.newBuilder().setPostId(postId)).getCommentsList()).containsExactly(created);

        assertCode(() -> anonymous().createComment(create(postId, "hi")), Status.Code.UNAUTHENTICATED);
        assertCode(() -> as(bob).createComment(create(UUID.randomUUID().toString(), "hi")), Status.Code.NOT_FOUND);
        for (String bad : new String[] {"", "../etc/passwd", "x".repeat(65), "1' OR '1'='1", "a/b"}) {
            assertCode(() -> as(bob).createComment(create(bad, "hi")), Status.Code.INVALID_ARGUMENT);
        }
        assertThat(list(ListCommentsRequest.newBuilder().setAuthor(bob.getUserId())).getCommentsList())
                .containsExactly(created);
    }

    @Test
    void textRules() {
        LoginResponse author = newUser();
        String postId = newPost(author);
        CommentServiceGrpc.CommentServiceBlockingStub stub = as(author);
        for (String bad : new String[] {"", "   ", "\n\t", "t".repeat(2_001), "é".repeat(2_001), "a\u0000b", "bell\u0007",
                                        "x".repeat(1_000_000)}) {
            assertCode(() -> stub.createComment(create(postId, bad)), Status.Code.INVALID_ARGUMENT);
        }
        assertCode(() -> stub.createComment(CreateCommentRequest.newBuilder().setPostId(postId).build()),
                   Status.Code.INVALID_ARGUMENT);
        // the boundary counts characters, not UTF-16 units or bytes
        assertThat(stub.createComment(create(postId, "é".repeat(2_000))).getText()).hasSize(2_000);
        assertThat(stub.createComment(create(postId, "😀".repeat(2_000))).getText()).hasSize(4_000);
        assertThat(stub.createComment(create(postId, "<script>alert(1)</script>\nline\ttab")).getText())
                .isEqualTo("<script>alert(1)</script>\nline\ttab");
        assertThat(list(ListCommentsRequest.newBuilder().setPostId(postId)).getCommentsCount()).isEqualTo(3);
    }

    @Test
    void listsOldestFirstInPagesThatStayStableWhileCommentsAreAdded() {
        LoginResponse alice = newUser();
        LoginResponse bob = newUser();
        String postId = newPost(alice);
        String otherPost = newPost(alice);
        List<Comment> created = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            created.add(as(i % 2 == 0 ? alice : bob).createComment(create(postId, "c" + i)));
        }
        as(bob).createComment(create(otherPost, "elsewhere"));
        ListCommentsResponse first = list(ListCommentsRequest.newBuilder().setPostId(postId).setPageSize(3));
        List<Comment> seen = new ArrayList<>(first.getCommentsList());
        // comments written while the client pages come at the end, not in the middle
        List<Comment> late = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            late.add(as(alice).createComment(create(postId, "late" + i)));
        }
        String token = first.getNextPageToken();
        while (!token.isEmpty()) {
            ListCommentsResponse page = list(ListCommentsRequest.newBuilder().setPostId(postId).setPageSize(3)
                                                     .setPageToken(token));
            seen.addAll(page.getCommentsList());
            token = page.getNextPageToken();
        }
        List<Comment> all = new ArrayList<>(created);
        all.addAll(late);
        assertThat(seen).containsExactlyElementsOf(all.stream().sorted(OLDEST_FIRST).toList());

        // by author: bob's comments on both posts, oldest first
        List<Comment> bobs = list(ListCommentsRequest.newBuilder().setAuthor(bob.getUserId())).getCommentsList();
        assertThat(bobs).hasSize(4).isSortedAccordingTo(OLDEST_FIRST).allMatch(c -> c.getAuthor().equals(bob.getUserId()));
        assertThat(bobs).extracting(Comment::getPostId).contains(postId, otherPost);
    }

    @Test
    void listRejectsBadFiltersPageSizesAndTokens() {
        LoginResponse author = newUser();
        String postId = newPost(author);
        for (int i = 0; i < 2; i++) {
            as(author).createComment(create(postId, "c" + i));
        }
        assertThat(list(ListCommentsRequest.newBuilder().setPostId(postId).setPageSize(0)).getCommentsCount()).isEqualTo(2);
        assertThat(list(ListCommentsRequest.newBuilder().setPostId(postId).setPageSize(100)).getCommentsCount()).isEqualTo(2);
        for (int size : new int[] {-1, 101, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            assertCode(() -> list(ListCommentsRequest.newBuilder().setPostId(postId).setPageSize(size)),
                       Status.Code.INVALID_ARGUMENT);
        }
        // exactly one of the two filters
        assertCode(() -> list(ListCommentsRequest.newBuilder()), Status.Code.INVALID_ARGUMENT);
        assertCode(() -> list(ListCommentsRequest.newBuilder().setPostId(postId).setAuthor(author.getUserId())),
                   Status.Code.INVALID_ARGUMENT);
        assertCode(() -> list(ListCommentsRequest.newBuilder().setAuthor("<script>")), Status.Code.INVALID_ARGUMENT);
        assertCode(() -> list(ListCommentsRequest.newBuilder().setPostId("x".repeat(65))), Status.Code.INVALID_ARGUMENT);

        String token = list(ListCommentsRequest.newBuilder().setPostId(postId).setPageSize(1)).getNextPageToken();
        assertThat(token).isNotEmpty();
        for (String bad : new String[] {"garbage", "!!!", "x".repeat(5000), token + "x"}) {
            assertCode(() -> list(ListCommentsRequest.newBuilder().setPostId(postId).setPageToken(bad)),
                       Status.Code.INVALID_ARGUMENT);
        }
        // a token pages only the list it was issued for: not another post's, not the author's list
        assertCode(() -> list(ListCommentsRequest.newBuilder().setPostId(newPost(author)).setPageToken(token)),
                   Status.Code.INVALID_ARGUMENT);
        assertCode(() -> list(ListCommentsRequest.newBuilder().setAuthor(postId).setPageToken(token)),
                   Status.Code.INVALID_ARGUMENT);
        assertThat(list(ListCommentsRequest.newBuilder().setPostId(postId).setPageSize(1).setPageToken(token))
                           .getComments(0).getText()).isEqualTo("c1");
    }

    @Test
    void onlyTheAuthorDeletes() {
        LoginResponse author = newUser();
        LoginResponse other = newUser();
        String postId = newPost(other);
        String id = as(author).createComment(create(postId, "mine")).getId();
        DeleteCommentRequest delete = DeleteCommentRequest.newBuilder().setPostId(postId).setCommentId(id).build();

        assertCode(() -> anonymous().deleteComment(delete), Status.Code.UNAUTHENTICATED);
        // not even the post's author
        assertCode(() -> as(other).deleteComment(delete), Status.Code.PERMISSION_DENIED);
        // a comment is found under its own post only
        assertCode(() -> as(author).deleteComment(delete.toBuilder().setPostId(newPost(author)).build()),
                   Status.Code.NOT_FOUND);
        assertCode(() -> as(author).deleteComment(delete.toBuilder().setCommentId("a/b").build()),
                   Status.Code.INVALID_ARGUMENT);
        assertThat(list(ListCommentsRequest.newBuilder().setPostId(postId)).getCommentsCount()).isEqualTo(1);

        as(author).deleteComment(delete);
        assertThat(list(ListCommentsRequest.newBuilder().setPostId(postId)).getCommentsList()).isEmpty();
        assertCode(() -> as(author).deleteComment(delete), Status.Code.NOT_FOUND);
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void withThePostServiceGoneACommentCannotBeMadeButListsStillAnswer() {
        LoginResponse author = newUser();
        String postId = newPost(author);
        Comment kept = as(author).createComment(create(postId, "before"));
        post.close();

        assertCode(() -> as(author).createComment(create(postId, "after")), Status.Code.UNAVAILABLE);
        assertThat(list(ListCommentsRequest.newBuilder().setPostId(postId)).getCommentsList()).containsExactly(kept);
    }

    private static String newPost(LoginResponse author) {
        Metadata metadata = bearer(author);
        return PostServiceGrpc.newBlockingStub(postChannel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata))
                .createPost(CreatePostRequest.newBuilder().setTitle("t").setContent("c").build()).getId();
    }

    private static CreateCommentRequest create(String postId, String text) {
        return CreateCommentRequest.newBuilder().setPostId(postId).setComment(Comment.newBuilder().setText(text)).build();
    }

    private static ListCommentsResponse list(ListCommentsRequest.Builder request) {
        return anonymous().listComments(request.build());
    }

    private static LoginResponse newUser() {
        String phone = "+3362" + PHONES.incrementAndGet();
        UserServiceGrpc.UserServiceBlockingStub users = UserServiceGrpc.newBlockingStub(userChannel)
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        users.register(RegisterRequest.newBuilder().setPhoneNumber(phone).setUserPassword("password 123").build());
        return users.login(LoginRequest.newBuilder().setPhoneNumber(phone).setUserPassword("password 123").build());
    }

    private static CommentServiceGrpc.CommentServiceBlockingStub anonymous() {
        return CommentServiceGrpc.newBlockingStub(commentChannel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static CommentServiceGrpc.CommentServiceBlockingStub as(LoginResponse login) {
        return anonymous().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(bearer(login)));
    }

    private static Metadata bearer(LoginResponse login) {
        Metadata metadata = new Metadata();
        metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + login.getToken());
        return metadata;
    }

    private static void assertCode(Runnable call, Status.Code code) {
        assertThatThrownBy(call::run).satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(code));
    }
}
