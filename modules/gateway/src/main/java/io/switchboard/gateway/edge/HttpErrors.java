package io.switchboard.gateway.edge;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.ErrorDetailsProto;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * Errors as the API promises them: {@code {"error": {"code", "message", "requestId"}}} with the HTTP status mapped
 * from the gRPC status, and {@code "details"} when the backend sent a {@code google.rpc.Status} with some
 * ({@code grpc-status-details-bin}). Never a stack trace.
 */
final class HttpErrors {
    /* Retry-After when a backend says RESOURCE_EXHAUSTED without saying for how long. */
    private static final long DEFAULT_RETRY_AFTER_SECONDS = 60;
    /* Longest Retry-After we pass on: a backend's detail must not tell clients to stay away for days. */
    private static final long MAX_RETRY_AFTER_SECONDS = 3600;

    /* An address in a description: grpc-java's remote_addr=..., or host:port / IP forms from a transport error. */
    private static final Pattern INTERNAL_ADDRESS = Pattern.compile(
            "remote_addr|local_addr|\\b\\d{1,3}(\\.\\d{1,3}){3}\\b|\\[[0-9a-fA-F:]+]|/[^\\s/]+:\\d{2,5}\\b");

    /* The standard error details (google/rpc/error_details.proto), less DebugInfo: its stack entries stay inside. */
    private static final JsonFormat.TypeRegistry DETAILS = JsonFormat.TypeRegistry.newBuilder()
            .add(ErrorDetailsProto.getDescriptor().getMessageTypes().stream()
                         .filter(type -> !type.getName().equals("DebugInfo")).toList())
            .build();
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().usingTypeRegistry(DETAILS)
            .omittingInsignificantWhitespace();

    private HttpErrors() {
    }

    /**
     * The details of a backend's {@code google.rpc.Status}, as JSON: each standard detail printed with its
     * {@code @type} (BadRequest, RetryInfo, ErrorInfo, ...), any other only by its {@code @type}. DebugInfo is left
     * out. Null when there are none.
     */
    static JsonArray details(StatusRuntimeException e) {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status == null || status.getDetailsCount() == 0) {
            return null;
        }
        JsonArray details = new JsonArray();
        for (Any detail : status.getDetailsList()) {
            String type = detail.getTypeUrl().substring(detail.getTypeUrl().lastIndexOf('/') + 1);
            if (type.equals("google.rpc.DebugInfo")) {
                continue;
            }
            try {
                details.add(JsonParser.parseString(PRINTER.print(detail)));
            } catch (InvalidProtocolBufferException | RuntimeException unknown) {
                // a type the gateway does not know, or bytes that do not parse: its name only
                JsonObject named = new JsonObject();
                named.addProperty("@type", detail.getTypeUrl());
                details.add(named);
            }
        }
        return details.isEmpty() ? null : details;
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
        return body(code, message, requestId, null);
    }

    static byte[] body(String code, String message, String requestId, JsonArray details) {
        JsonObject error = new JsonObject();
        error.addProperty("code", code);
        error.addProperty("message", message);
        error.addProperty("requestId", requestId);
        if (details != null) {
            error.add("details", details);
        }
        JsonObject body = new JsonObject();
        body.add("error", error);
        return body.toString().getBytes(StandardCharsets.UTF_8);
    }
}
