package io.switchboard.gateway.edge;

import java.nio.charset.StandardCharsets;

import com.google.gson.JsonObject;
import io.grpc.Status;

/**
 * Errors as the API promises them: {@code {"error": {"code", "message", "requestId"}}} with the HTTP status mapped
 * from the gRPC status. Never a stack trace.
 */
final class HttpErrors {
    private HttpErrors() {
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
