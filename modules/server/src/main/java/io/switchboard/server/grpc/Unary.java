package io.switchboard.server.grpc;

import java.lang.System.Logger.Level;
import java.util.function.Supplier;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * Answers a unary call from a function that returns the response or throws a gRPC status. Only the status code,
 * its description and the trailers the service put on the exception (such as a {@code google.rpc.RetryInfo})
 * reach the client, never a cause or a stack trace; an UNAVAILABLE with a cause (a database error) is logged once
 * with the request id.
 * <p>
 * A call the client cancelled while it ran (a hedge that lost, a client gone) gets nothing written: Helidon 4.5
 * answers frames on a stream its client reset with a GOAWAY (PROTOCOL_ERROR) that fails every other call on the
 * connection (CallLimitTest caught it in 2 runs of 3).
 */
public final class Unary {
    private static final System.Logger LOG = System.getLogger(Unary.class.getName());

    private Unary() {
    }

    /**
     * Runs the call and sends its response or status.
     *
     * @param responses the call's observer
     * @param call      computes the response
     * @param <T>       response type
     */
    public static <T> void answer(StreamObserver<T> responses, Supplier<T> call) {
        T response;
        try {
            response = call.get();
            if (cancelled(responses)) {
                return;
            }
        } catch (StatusRuntimeException e) {
            Status status = e.getStatus();
            if (status.getCode() == Status.Code.UNAVAILABLE && e.getCause() != null) {
                LOG.log(Level.WARNING, "[" + RequestIds.current() + "] " + status.getDescription() + ": "
                                       + e.getCause().getMessage());
            }
            if (cancelled(responses)) {
                return;
            }
            responses.onError(new StatusRuntimeException(
                    Status.fromCode(status.getCode()).withDescription(status.getDescription()), e.getTrailers()));
            return;
        }
        responses.onNext(response);
        responses.onCompleted();
    }

    private static boolean cancelled(StreamObserver<?> responses) {
        return responses instanceof ServerCallStreamObserver<?> call && call.isCancelled();
    }
}
