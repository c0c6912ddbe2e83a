package io.switchboard.post;

import java.lang.System.Logger.Level;
import java.util.regex.Pattern;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.post.v1.CreatePostRequest;
import io.switchboard.api.post.v1.DeletePostRequest;
import io.switchboard.api.post.v1.DeletePostResponse;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.ListPostsRequest;
import io.switchboard.api.post.v1.ListPostsResponse;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.post.v1.WatchPostsRequest;
import io.switchboard.api.post.v1.WatchPostsResponse;
import io.switchboard.post.posts.Posts;
import io.switchboard.runtime.db.KeysetTokens;
import io.switchboard.server.grpc.RequestIds;
import io.switchboard.server.grpc.Unary;
import io.switchboard.tokens.Caller;

/**
 * The post API. The author of a post is always the verified caller; only the author may delete it. Thread safe.
 */
final class PostService extends PostServiceGrpc.PostServiceImplBase {
    private static final System.Logger LOG = System.getLogger(PostService.class.getName());
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
    private static final int MAX_TITLE = 200;
    private static final int MAX_CONTENT = 20_000;
    private static final int DEFAULT_PAGE = 20;
    private static final int MAX_PAGE = 100;

    private final Posts posts;
    private final PostFeed feed;

    PostService(Posts posts, PostFeed feed) {
        this.posts = posts;
        this.feed = feed;
    }

    @Override
    public void createPost(CreatePostRequest request, StreamObserver<Post> responses) {
        Unary.answer(responses, () -> {
            Caller caller = Caller.required();
            checkText("title", request.getTitle(), MAX_TITLE, false);
            checkText("content", request.getContent(), MAX_CONTENT, true);
            Posts.StoredPost post = posts.create(caller.userId(), request.getTitle(), request.getContent());
            feed.created();
            LOG.log(Level.INFO, "[" + RequestIds.current() + "] post " + post.id() + " created by " + caller.userId());
            return toProto(post);
        });
    }

    @Override
    public void getPost(GetPostRequest request, StreamObserver<Post> responses) {
        Unary.answer(responses, () -> toProto(find(request.getId())));
    }

    @Override
    public void listPosts(ListPostsRequest request, StreamObserver<ListPostsResponse> responses) {
        Unary.answer(responses, () -> {
            int size = request.getPageSize() == 0 ? DEFAULT_PAGE : request.getPageSize();
            if (size < 1 || size > MAX_PAGE) {
                throw invalid("pageSize must be 1.." + MAX_PAGE + ", got " + request.getPageSize());
            }
            if (!request.getAuthor().isEmpty() && !ID.matcher(request.getAuthor()).matches()) {
                throw invalid("author must be a user id");
            }
            KeysetTokens.Page<Posts.StoredPost> page = posts.list(request.getAuthor(), size, request.getPageToken());
            ListPostsResponse.Builder response = ListPostsResponse.newBuilder().setNextPageToken(page.nextPageToken());
            page.rows().forEach(p -> response.addPosts(toProto(p)));
            return response.build();
        });
    }

    @Override
    public void watchPosts(WatchPostsRequest request, StreamObserver<WatchPostsResponse> responses) {
        try {
            feed.watch(request, (ServerCallStreamObserver<WatchPostsResponse>) responses);
        } catch (StatusRuntimeException e) {
            responses.onError(e);
        }
    }

    @Override
    public void deletePost(DeletePostRequest request, StreamObserver<DeletePostResponse> responses) {
        Unary.answer(responses, () -> {
            Caller caller = Caller.required();
            Posts.StoredPost post = find(request.getId());
            if (!post.author().equals(caller.userId())) {
                throw Status.PERMISSION_DENIED.withDescription("only the author may delete a post").asRuntimeException();
            }
            if (!posts.delete(post.id())) {
                throw notFound();
            }
            LOG.log(Level.INFO, "[" + RequestIds.current() + "] post " + post.id() + " deleted by its author");
            return DeletePostResponse.getDefaultInstance();
        });
    }

    private Posts.StoredPost find(String id) {
        if (!ID.matcher(id).matches()) {
            throw invalid("id must be a post id");
        }
        return posts.get(id).orElseThrow(PostService::notFound);
    }

    private static void checkText(String field, String value, int max, boolean multiline) {
        int length = value.codePointCount(0, value.length());
        if (value.isBlank() || length > max) {
            throw invalid(field + " must be 1.." + max + " characters and not blank");
        }
        boolean badControl = value.chars().anyMatch(c -> Character.isISOControl(c)
                                                         && !(multiline && (c == '\n' || c == '\r' || c == '\t')));
        if (badControl) {
            throw invalid(field + " must not contain control characters");
        }
    }

    private static Post toProto(Posts.StoredPost post) {
        return PostFeed.toProto(post);
    }

    private static RuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    private static RuntimeException notFound() {
        return Status.NOT_FOUND.withDescription("no post with that id").asRuntimeException();
    }
}
