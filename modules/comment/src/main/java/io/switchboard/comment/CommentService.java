package io.switchboard.comment;

import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.regex.Pattern;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.comment.v1.Comment;
import io.switchboard.api.comment.v1.CommentServiceGrpc;
import io.switchboard.api.comment.v1.CreateCommentRequest;
import io.switchboard.api.comment.v1.DeleteCommentRequest;
import io.switchboard.api.comment.v1.DeleteCommentResponse;
import io.switchboard.api.comment.v1.ListCommentsRequest;
import io.switchboard.api.comment.v1.ListCommentsResponse;
import io.switchboard.comment.comments.Comments;
import io.switchboard.runtime.db.KeysetTokens;
import io.switchboard.server.grpc.RequestIds;
import io.switchboard.server.grpc.Unary;
import io.switchboard.tokens.Caller;

/**
 * The comment API. The author of a comment is always the verified caller; a comment is made only on a post the post
 * service has; only its author may delete it. Thread safe.
 */
final class CommentService extends CommentServiceGrpc.CommentServiceImplBase {
    private static final System.Logger LOG = System.getLogger(CommentService.class.getName());
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
    private static final int MAX_TEXT = 2_000;
    private static final int DEFAULT_PAGE = 20;
    private static final int MAX_PAGE = 100;

    private final Comments comments;
    private final PostLookup posts;

    CommentService(Comments comments, PostLookup posts) {
        this.comments = comments;
        this.posts = posts;
    }

    @Override
    public void createComment(CreateCommentRequest request, StreamObserver<Comment> responses) {
        Unary.answer(responses, () -> {
            Caller caller = Caller.required();
            checkId("postId", request.getPostId());
            String text = request.getComment().getText();
            if (text.isBlank() || text.codePointCount(0, text.length()) > MAX_TEXT) {
                throw invalid("comment.text must be 1.." + MAX_TEXT + " characters and not blank");
            }
            if (text.chars().anyMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\r' && c != '\t')) {
                throw invalid("comment.text must not contain control characters");
            }
            if (!posts.exists(request.getPostId())) {
                throw Status.NOT_FOUND.withDescription("no post with that id").asRuntimeException();
            }
            Comments.StoredComment comment = comments.create(request.getPostId(), caller.userId(), text);
            LOG.log(Level.INFO, "[" + RequestIds.current() + "] comment " + comment.id() + " on post "
                                + comment.postId() + " created by " + caller.userId());
            return toProto(comment);
        });
    }

    @Override
    public void listComments(ListCommentsRequest request, StreamObserver<ListCommentsResponse> responses) {
        Unary.answer(responses, () -> {
            int size = request.getPageSize() == 0 ? DEFAULT_PAGE : request.getPageSize();
            if (size < 1 || size > MAX_PAGE) {
                throw invalid("pageSize must be 1.." + MAX_PAGE + ", got " + request.getPageSize());
            }
            if (request.getPostId().isEmpty() == request.getAuthor().isEmpty()) {
                throw invalid("exactly one of postId and author must be given");
            }
            Comments.Filter filter;
            if (request.getPostId().isEmpty()) {
                checkId("author", request.getAuthor());
                filter = new Comments.Filter(false, request.getAuthor());
            } else {
                checkId("postId", request.getPostId());
                filter = new Comments.Filter(true, request.getPostId());
            }
            KeysetTokens.Page<Comments.StoredComment> page = comments.list(filter, size, request.getPageToken());
            ListCommentsResponse.Builder response = ListCommentsResponse.newBuilder()
                    .setNextPageToken(page.nextPageToken());
            page.rows().forEach(c -> response.addComments(toProto(c)));
            return response.build();
        });
    }

    @Override
    public void deleteComment(DeleteCommentRequest request, StreamObserver<DeleteCommentResponse> responses) {
        Unary.answer(responses, () -> {
            Caller caller = Caller.required();
            checkId("postId", request.getPostId());
            checkId("commentId", request.getCommentId());
            Comments.StoredComment comment = comments.get(request.getPostId(), request.getCommentId())
                    .orElseThrow(CommentService::notFound);
            if (!comment.author().equals(caller.userId())) {
                throw Status.PERMISSION_DENIED.withDescription("only the author may delete a comment")
                        .asRuntimeException();
            }
            if (!comments.delete(comment.id())) {
                throw notFound();
            }
            LOG.log(Level.INFO, "[" + RequestIds.current() + "] comment " + comment.id() + " deleted by its author");
            return DeleteCommentResponse.getDefaultInstance();
        });
    }

    private static void checkId(String field, String value) {
        if (!ID.matcher(value).matches()) {
            throw invalid(field + " must be an id: 1..64 letters, digits and dashes");
        }
    }

    private static Comment toProto(Comments.StoredComment comment) {
        return Comment.newBuilder()
                .setId(comment.id())
                .setPostId(comment.postId())
                .setAuthor(comment.author())
                .setText(comment.text())
                .setCreatedAt(Instant.ofEpochMilli(comment.createdAt()).toString())
                .build();
    }

    private static RuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    private static RuntimeException notFound() {
        return Status.NOT_FOUND.withDescription("the post has no comment with that id").asRuntimeException();
    }
}
