package io.switchboard.gateway.edge;

import java.lang.System.Logger.Level;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;
import io.switchboard.server.grpc.RequestIds;

/**
 * Answers requests that never reach routing (a request line or headers Helidon cannot parse, a header section too
 * large) with the API's JSON error and one access-log line. Helidon reports a request line with a non-ASCII method as
 * an internal error; a request it could not even parse is the client's fault, so it gets 400 and no stack trace.
 */
final class TransportErrors implements DirectHandler {
    private TransportErrors() {
    }

    /**
     * Direct handlers for every event type.
     *
     * @return handlers
     */
    static DirectHandlers handlers() {
        TransportErrors errors = new TransportErrors();
        DirectHandlers.Builder builder = DirectHandlers.builder();
        for (EventType type : EventType.values()) {
            builder.addHandler(type, errors);
        }
        return builder.build();
    }

    @Override
    public TransportResponse handle(TransportRequest request, EventType eventType, Status defaultStatus,
                                    ServerResponseHeaders responseHeaders, String message) {
        boolean unparsed = request.method().isEmpty();
        Status status = unparsed && defaultStatus.code() >= 500 ? Status.BAD_REQUEST_400 : defaultStatus;
        String code = switch (status.code()) {
            case 404 -> "NOT_FOUND";
            case 500 -> "INTERNAL";
            default -> status.code() >= 500 ? "UNAVAILABLE" : "INVALID_ARGUMENT";
        };
        String text = status.code() == 400 || message == null || message.isBlank() ? "malformed request" : message;
        String requestId = RequestIds.create();
        if (GatewayHandler.ACCESS.isLoggable(Level.INFO)) {
            GatewayHandler.ACCESS.log(Level.INFO, (unparsed ? "-" : request.method()) + " "
                                                  + (unparsed ? "-" : brief(request.path())) + " " + status.code()
                                                  + " 0ms " + requestId + " " + eventType.name().toLowerCase());
        }
        return TransportResponse.builder()
                .status(status)
                .headers(responseHeaders)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .header(GatewayHandler.REQUEST_ID, requestId)
                .entity(HttpErrors.body(code, text, requestId))
                .build();
    }

    private static String brief(String path) {
        return path.length() <= 200 ? path : path.substring(0, 200) + "...";
    }
}
