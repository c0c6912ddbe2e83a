package io.switchboard.comment;

import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.registry.Balancing;
import io.switchboard.registry.CallPolicy;
import io.switchboard.registry.Discovery;
import io.switchboard.server.grpc.RequestIds;

/**
 * Asks the post service, found through discovery, whether a post exists: a comment is made only on a post that
 * exists. {@code GetPost} is safe to repeat, so the channel hedges it away from a slow instance. Thread safe; close
 * it to release the channel.
 */
final class PostLookup implements AutoCloseable {
    private static final long DEADLINE_MILLIS = 2_000;

    private final ManagedChannel channel;
    private final PostServiceGrpc.PostServiceBlockingStub stub;

    PostLookup(Discovery discovery) {
        channel = discovery.channel("post", Balancing.ROUND_ROBIN,
                                    Set.of(PostServiceGrpc.getGetPostMethod().getFullMethodName()), CallPolicy.DEFAULT);
        stub = PostServiceGrpc.newBlockingStub(channel);
    }

    /**
     * Whether a post exists, asked with the current call's request id.
     *
     * @param postId a well-formed post id
     * @return true when the post service has it
     * @throws StatusRuntimeException UNAVAILABLE when the post service cannot say
     */
    boolean exists(String postId) {
        Metadata headers = new Metadata();
        headers.put(RequestIds.KEY, RequestIds.current());
        try {
            stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                    .withDeadlineAfter(DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
                    .getPost(GetPostRequest.newBuilder().setId(postId).build());
            return true;
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return false;
            }
            throw Status.UNAVAILABLE.withDescription("the post service did not answer").withCause(e).asRuntimeException();
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
