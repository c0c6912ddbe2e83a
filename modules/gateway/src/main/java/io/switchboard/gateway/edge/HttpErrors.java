package io.switchboard.gateway.edge;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import com.google.gson.JsonObject;
import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * Errors as the API promises them: {@code {"error": {"code", "message", "requestId"}}} with the HTTP status mapped
 * from the gRPC status. Never a stack trace.
 */
final class HttpErrors {
    /* Retry-After when a backend says RESOURCE_EXHAUSTED without saying for how long. */
    private static final long DEFAULT_RETRY_AFTER_SECONDS = 60;
    /* Longest Retry-After we pass on: a backend's detail must not tell clients to stay away for days. */
    private static final long MAX_RETRY_AFTER_SECONDS = 3600;

    /* An address in a description: grpc-java's remote_addr=..., or host:port / IP forms from a transport error. */
    private static final Pattern INTERNAL_ADDRESS = Pattern.compile(
            "remote_addr|local_addr|\\b\\d{1,3}(\\.\\d{1,3}){3}\\b|\\[[0-9a-fA-F:]+]|/[^\\s/]+:\\d{2,5}\\b");

    private HttpErrors() {
    }

    /**
     * The {@code Retry-After} for a RESOURCE_EXHAUSTED answer: the backend's {@code google.rpc.RetryInfo} delay in
     * whole seconds, rounded up (1 to an hour), or {@value #DEFAULT_RETRY_AFTER_SECONDS} when it gave none.
     */
    static long retryAfterSeconds(StatusRuntimeException e) {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status == null) {
            return DEFAULT_RETRY_AFTER_SECONDS;
        }
        for (Any detail : status.getDetailsList()) {
            if (detail.is(RetryInfo.class)) {
                try {
                    Duration delay = detail.unpack(RetryInfo.class).getRetryDelay();
                    long seconds = delay.getSeconds() + (delay.getNanos() > 0 ? 1 : 0);
                    return Math.clamp(seconds, 1, MAX_RETRY_AFTER_SECONDS);
                } catch (InvalidProtocolBufferException ignored) {
                    // a detail that does not parse says nothing
                }
            }
        }
        return DEFAULT_RETRY_AFTER_SECONDS;
    }

    static int httpStatus(Status.Code code) {
        return switch (code) {
            case INVALID_ARGUMENT, OUT_OF_RANGE, FAILED_PRECONDITION -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, ABORTED -> 409;
            case RESOURCE_EXHAUSTED -> 429;
            case UNAVAILABLE -> 503;
            case DEADLINE_EXCEEDED -> 504;
            default -> 500;
        };
    }

    /**
     * What a client is told of a backend call's status: the backend's own description, but never what grpc-java's
     * transport wrote into it (a deadline's {@code remote_addr=10.0.3.7:8005}, a connection error naming a host),
     * which would show clients the cluster's internal addresses.
     */
    static String clientMessage(Status status) {
        String description = status.getDescription();
        if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
            return "the service did not answer within the route's deadline";
        }
        if (description == null || INTERNAL_ADDRESS.matcher(description).find()) {
            return status.getCode().name().toLowerCase().replace('_', ' ');
        }
        return description;
    }

    static byte[] body(String code, String message, String requestId) {
        JsonObject error = new JsonObject();
        error.addProperty("code", code);
        error.addProperty("message", message);
        error.addProperty("requestId", requestId);
        JsonObject body = new JsonObject();
        body.add("error", error);
        return body.toString().getBytes(StandardCharsets.UTF_8);
    }
}
