package io.switchboard.gateway.edge;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

import com.google.gson.JsonArray;
import com.google.protobuf.Message;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.concurrency.limits.LimitAlgorithm;
import io.helidon.common.uri.UriQuery;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerRequestHeaders;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.switchboard.gateway.routes.RouteTable;
import io.switchboard.gateway.transcode.Transcoder;
import io.switchboard.gateway.upstream.Attempts;
import io.switchboard.gateway.upstream.Upstreams;
import io.switchboard.schema.Route;
import io.switchboard.server.Tracing;
import io.switchboard.server.grpc.ClientAddress;
import io.switchboard.server.grpc.RequestIds;
import io.switchboard.tokens.Authentication;
import io.switchboard.tokens.TokenVerifier;

/**
 * Every API request: route lookup, rate limit, token check, transcoding, the gRPC call, the answer. Errors are JSON
 * with the status mapped from gRPC; every request gets an {@code X-Request-Id} (the client's, when it sent a sane
 * one) that goes to the backend and into the one access-log line written per request. Thread safe.
 */
public final class GatewayHandler implements Handler, AutoCloseable {
    /** The access log: one line per request, here and in {@link TransportErrors}. */
    static final System.Logger ACCESS = System.getLogger("io.switchboard.gateway.access");
    static final HeaderName REQUEST_ID = HeaderNames.create("X-Request-Id");
    private static final HeaderName TRACEPARENT = HeaderNames.create("traceparent");
    private static final HeaderName TRACESTATE = HeaderNames.create("tracestate");
    /* the W3C trace context of a request (the propagator checks its format, and drops what it cannot read) */
    private static final TextMapGetter<ServerRequestHeaders> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(ServerRequestHeaders headers) {
            List<String> names = new ArrayList<>();
            headers.forEach(header -> names.add(header.name()));
            return names;
        }

        @Override
        public String get(ServerRequestHeaders headers, String key) {
            if (headers == null) {
                return null;
            }
            HeaderName name = key.equals(TRACEPARENT.lowerCase()) ? TRACEPARENT
                    : key.equals(TRACESTATE.lowerCase()) ? TRACESTATE : HeaderNames.create(key);
            return headers.first(name).orElse(null);
        }
    };

    private final Supplier<RouteTable> routes;
    private final Transcoder transcoder = new Transcoder();
    private final Upstreams upstreams;
    private final TokenVerifier verifier;
    private final ClientRateLimiter limiter;
    private final GatewayMetrics metrics;
    private final Admission admission;
    private final Tracing tracing;
    private final Cors cors;
    private final ClientAddresses clients;
    private final EventStreams streams;
    private final int bodyLimit;

    GatewayHandler(Supplier<RouteTable> routes, Upstreams upstreams, TokenVerifier verifier, ClientRateLimiter limiter,
                   ClientAddresses clients, Admission admission, GatewayMetrics metrics, Tracing tracing, Cors cors,
                   EventStreams streams, int bodyLimit) {
        this.routes = routes;
        this.upstreams = upstreams;
        this.verifier = verifier;
        this.limiter = limiter;
        this.admission = admission;
        this.metrics = metrics;
        this.tracing = tracing;
        this.cors = cors;
        this.clients = clients;
        this.streams = streams;
        this.bodyLimit = bodyLimit;
    }

    @Override
    public void handle(ServerRequest request, ServerResponse response) {
        String path = request.path().rawPath();
        long start = System.nanoTime();
        String method = request.prologue().method().text();
        String requestId = requestId(request, response);
        RouteTable table = routes.get();
        RouteTable.Match match = table == null ? null : table.match(method, path);
        Route route = match == null ? null : match.route();
        Span span = span(request, method, path, route, requestId);
        Outcome outcome = new Outcome(new Attempts(tracing, Context.root().with(span)));
        int status = 500;
        // current while the request is served: the latency histogram's exemplar is this span's
        try (Scope ignored = span.makeCurrent()) {
            boolean preflight = cors.isPreflight(method, request.headers());
            if (!preflight) {
                cors.decorate(request.headers(), response);
            }
            Optional<LimitAlgorithm.Token> admitted = admission.request();
            outcome.admitted = admitted.orElse(null);
            try {
                status = admitted.isEmpty() ? shed(response, "in-flight", "the gateway serves as many requests as it may",
                                                   requestId)
                                            : match == null ? error(response, 503, "UNAVAILABLE",
                                                                    "the gateway has not learned its routes yet", requestId)
                                            : preflight ? preflight(match, request, response, requestId)
                                            : route == null ? unmatched(match, response, requestId)
                                            : serve(route, match, request, response, requestId, outcome);
            } catch (RuntimeException e) {
                // a bug, not bad input: answer 500 without detail, log it once with the request id
                System.getLogger(GatewayHandler.class.getName()).log(Level.ERROR, "[" + requestId + "] " + e, e);
                status = error(response, 500, "INTERNAL", "internal error", requestId);
            } finally {
                outcome.releaseAdmission();
            }
            long nanos = System.nanoTime() - start;
            String label = route == null ? "unmatched" : route.template();
            // a stream's time is its client's, not a latency
            metrics.request(label, method, status, outcome.streamed == null ? nanos : -1);
            if (ACCESS.isLoggable(Level.INFO)) {
                ACCESS.log(Level.INFO, method + " " + path + " " + status + " " + Duration.ofNanos(nanos).toMillis()
                                       + "ms " + requestId + (route == null ? "" : outcome.upstream(route))
                                       + (outcome.grpc == null ? "" : " grpc=" + outcome.grpc
                                                                      + (outcome.attempts.headersArrived()
                                                                         && outcome.streamed == null
                                                                         ? " after-headers" : ""))
                                       + (outcome.streamed == null ? "" : outcome.streamed)
                                       + trace(span));
            }
        } finally {
            if (span.isRecording()) {
                span.setAttribute("http.response.status_code", status);
                if (status >= 500) {
                    span.setStatus(StatusCode.ERROR);
                }
            }
            span.end();
        }
    }

    /*
     * The request's server span, named by its route's template, continuing the caller's trace. With tracing off, the
     * caller's trace context itself (passed on to the backend unchanged), or an invalid span.
     */
    private Span span(ServerRequest request, String method, String path, Route route, String requestId) {
        Context caller = tracing.openTelemetry().getPropagators().getTextMapPropagator()
                .extract(Context.root(), request.headers(), HEADERS);
        Span span = tracing.tracer().spanBuilder(route == null ? method : method + " " + route.template())
                .setParent(caller)
                .setSpanKind(SpanKind.SERVER)
                .startSpan();
        // only a span that is recorded (sampled) is worth its attributes
        if (span.isRecording()) {
            span.setAttribute("http.request.method", method);
            span.setAttribute("url.path", path);
            span.setAttribute("switchboard.request_id", requestId);
            if (route != null) {
                span.setAttribute("http.route", route.template());
            }
        }
        return span;
    }

    /* for the access log: the trace a sampled request's spans are in */
    private static String trace(Span span) {
        SpanContext context = span.getSpanContext();
        return context.isSampled() ? " trace=" + context.getTraceId() : "";
    }

    private int serve(Route route, RouteTable.Match match, ServerRequest request, ServerResponse response,
                      String requestId, Outcome outcome) {
        if (!route.rateLimited()) {
            return call(route, match, request, response, requestId, outcome, null);
        }
        String client = clients.of(request.remotePeer().address(), request.headers());
        Duration wait = limiter.acquire(client);
        if (!wait.isZero()) {
            response.header(HeaderNames.RETRY_AFTER, String.valueOf(Math.max(1, (wait.toMillis() + 999) / 1000)));
            return error(response, 429, "RESOURCE_EXHAUSTED", "too many requests from this address", requestId);
        }
        // the rate-limited routes' own share of the permits: a flood of logins from many addresses leaves reads theirs
        Optional<LimitAlgorithm.Token> admitted = admission.rateLimitedRequest();
        if (admitted.isEmpty()) {
            return shed(response, "rate-limited-route", "the gateway serves as many requests on this route as it may",
                        requestId);
        }
        try {
            // the service's own per-client limits (failed logins) count the same client
            return call(route, match, request, response, requestId, outcome, client);
        } finally {
            admitted.get().success();
        }
    }

    private int call(Route route, RouteTable.Match match, ServerRequest request, ServerResponse response,
                     String requestId, Outcome outcome, String client) {
        Metadata metadata = new Metadata();
        metadata.put(RequestIds.KEY, requestId);
        if (client != null) {
            metadata.put(ClientAddress.KEY, client);
        }
        if (route.auth()) {
            String authorization = request.headers().first(HeaderNames.AUTHORIZATION).orElse("");
            TokenVerifier.InvalidTokenException refusal = authenticate(authorization, metadata);
            if (refusal != null && refusal.unavailable()) {
                // the token may be good: try again soon, do not log in again
                response.header(HeaderNames.RETRY_AFTER, "1");
                return error(response, 503, "UNAVAILABLE", refusal.getMessage(), requestId);
            }
            if (refusal != null) {
                response.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
                return error(response, 401, "UNAUTHENTICATED", refusal.getMessage(), requestId);
            }
        }
        byte[] body = new byte[0];
        if (route.body()) {
            String contentType = request.headers().first(HeaderNames.CONTENT_TYPE).orElse("");
            if (!contentType.toLowerCase().startsWith("application/json")) {
                return error(response, 415, "INVALID_ARGUMENT", "Content-Type must be application/json", requestId);
            }
            try {
                body = readBody(request);
            } catch (UncheckedIOException | DataReader.InsufficientDataAvailableException e) {
                return error(response, 400, "INVALID_ARGUMENT", "the request body ended before its announced length",
                             requestId);
            }
            if (body == null) {
                return error(response, 413, "INVALID_ARGUMENT", "request body larger than " + bodyLimit + " bytes",
                             requestId);
            }
        }
        Message call;
        try {
            call = transcoder.request(route, match.variables(), query(request.query()), body);
        } catch (Transcoder.BadRequest e) {
            return error(response, 400, "INVALID_ARGUMENT", e.getMessage(), requestId);
        }
        if (route.streaming()) {
            return stream(route, call, request, response, requestId, outcome, metadata);
        }
        Message answer;
        try {
            answer = upstreams.call(route, call, metadata, outcome.attempts);
            metrics.upstream(route.backend(), "OK");
            retried(route, outcome.attempts, "OK");
        } catch (StatusRuntimeException e) {
            Status grpc = e.getStatus();
            outcome.grpc = grpc.getCode().name() + operatorDetail(grpc);
            metrics.upstream(route.backend(), grpc.getCode().name());
            retried(route, outcome.attempts, grpc.getCode().name());
            return upstreamError(response, e, requestId);
        }
        response.status(io.helidon.http.Status.create(route.successStatus()));
        if (route.successStatus() == 204) {
            response.send();
        } else {
            response.header(HeaderNames.CONTENT_TYPE, "application/json");
            response.send(transcoder.response(route, answer));
        }
        return route.successStatus();
    }

    /* A server-streaming route: SSE or NDJSON while the call lasts (see EventStreams). */
    private int stream(Route route, Message call, ServerRequest request, ServerResponse response, String requestId,
                       Outcome outcome, Metadata metadata) {
        Boolean events;
        try {
            events = EventStreams.wantsEvents(request.headers());
        } catch (IllegalArgumentException e) {
            return error(response, 400, "INVALID_ARGUMENT", e.getMessage(), requestId);
        }
        if (events == null) {
            return error(response, 406, "INVALID_ARGUMENT", "this route streams text/event-stream or application/x-ndjson",
                         requestId);
        }
        Message resumed;
        try {
            resumed = EventStreams.resumed(route, call, request.headers());
        } catch (IllegalArgumentException e) {
            return error(response, 400, "INVALID_ARGUMENT", e.getMessage(), requestId);
        }
        String client = clients.of(request.remotePeer().address(), request.headers());
        EventStreams.Permit permit = streams.admit(client);
        if (permit == null) {
            response.header(HeaderNames.RETRY_AFTER, "1");
            return error(response, 503, "UNAVAILABLE", "the gateway serves as many streams as it may", requestId);
        }
        try (permit) {
            // a stream holds its own permit, not one of the requests in flight
            outcome.releaseAdmission();
            EventStreams.Upstream listener = new EventStreams.Upstream();
            EventStreams.Ended ended;
            try {
                ended = streams.serve(route, upstreams.stream(route, resumed, metadata, outcome.attempts, listener),
                                      listener, response, events, requestId);
            } catch (StatusRuntimeException e) {
                ended = new EventStreams.Ended(0, "upstream", e.getStatus(), false);
            }
            ended.count(streams);
            Status status = ended.status();
            String code = status == null ? "CANCELLED" : status.getCode().name();
            metrics.upstream(route.backend(), code);
            outcome.streamed = " events=" + ended.messages() + " end=" + ended.reason();
            if (status != null && !status.isOk()) {
                outcome.grpc = code + operatorDetail(status);
            }
            if (ended.committed()) {
                return 200;
            }
            if (status == null || status.isOk()) {
                // the stream ended before it began: an empty one
                response.status(io.helidon.http.Status.OK_200);
                response.header(HeaderNames.CONTENT_TYPE, events ? "text/event-stream" : "application/x-ndjson");
                response.send();
                return 200;
            }
            return upstreamError(response, status.asRuntimeException(), requestId);
        }
    }

    /* A backend's failure as the client sees it: its HTTP status, message and details, and when to come back. */
    private static int upstreamError(ServerResponse response, StatusRuntimeException e, String requestId) {
        Status grpc = e.getStatus();
        if (grpc.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
            response.header(HeaderNames.RETRY_AFTER, String.valueOf(HttpErrors.retryAfterSeconds(e)));
        }
        return error(response, HttpErrors.httpStatus(grpc.getCode()), grpc.getCode().name(), HttpErrors.clientMessage(grpc),
                     requestId, HttpErrors.details(e));
    }

    /** Ends the open streams, each with an event that tells its client to reconnect. */
    @Override
    public void close() {
        streams.close();
    }

    /*
     * For the access log, not the client: how a call that timed out, found no instance or broke in the transport went,
     * in grpc-java's own words (its deadline message lists each attempt, open or closed, with its instance and
     * whether it waited for a connection; a broken connection names the HTTP/2 error and the peer's GOAWAY).
     */
    private static String operatorDetail(Status grpc) {
        if (grpc.getDescription() == null
            || grpc.getCode() != Status.Code.DEADLINE_EXCEEDED && grpc.getCode() != Status.Code.UNAVAILABLE
               && grpc.getCode() != Status.Code.INTERNAL) {
            return "";
        }
        // a service's own UNAVAILABLE message may hold anything: one log line stays one line
        String detail = grpc.getDescription().replaceAll("\\p{Cntrl}", " ");
        return " (" + (detail.length() > 300 ? detail.substring(0, 300) + "..." : detail) + ")";
    }

    private void retried(Route route, Attempts attempts, String outcome) {
        if (attempts.extra() > 0) {
            metrics.retried(route.backend(), attempts.gatewayRetry() ? "gateway-retry" : upstreams.hedging() ? "hedge" : "retry",
                            outcome);
        }
    }

    private TokenVerifier.InvalidTokenException authenticate(String authorization, Metadata metadata) {
        try {
            verifier.verifyAuthorization(authorization);
            metadata.put(Authentication.AUTHORIZATION, authorization);
            return null;
        } catch (TokenVerifier.InvalidTokenException e) {
            return e;
        }
    }

    /* A browser's CORS preflight: 204 with what the page may send, from the methods the path has; 404 or 403. */
    private int preflight(RouteTable.Match match, ServerRequest request, ServerResponse response, String requestId) {
        Set<String> methods = new TreeSet<>(match.allowed());
        if (match.route() != null) {
            methods.add(match.route().httpMethod());
        }
        if (methods.isEmpty()) {
            return error(response, 404, "NOT_FOUND", "no such route", requestId);
        }
        String refusal = cors.preflight(request.headers(), methods, response);
        if (refusal != null) {
            return error(response, 403, "PERMISSION_DENIED", "cross-origin request refused: " + refusal, requestId);
        }
        response.status(io.helidon.http.Status.NO_CONTENT_204);
        response.send();
        return 204;
    }

    private int unmatched(RouteTable.Match match, ServerResponse response, String requestId) {
        if (match.allowed().isEmpty()) {
            return error(response, 404, "NOT_FOUND", "no such route", requestId);
        }
        response.header(HeaderNames.ALLOW, String.join(", ", match.allowed()));
        return error(response, 405, "INVALID_ARGUMENT", "method not allowed here", requestId);
    }

    /* The body, or null when it is larger than the limit. */
    private byte[] readBody(ServerRequest request) {
        if (request.headers().contentLength().orElse(0) > bodyLimit) {
            return null;
        }
        try (InputStream in = request.content().inputStream()) {
            byte[] bytes = in.readNBytes(bodyLimit + 1);
            return bytes.length > bodyLimit ? null : bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, List<String>> query(UriQuery query) {
        Map<String, List<String>> parameters = new LinkedHashMap<>();
        for (String name : query.names()) {
            parameters.put(name, query.all(name));
        }
        return parameters;
    }

    /* a request beyond a limit: answered at once, counted, and told when to come back */
    private int shed(ServerResponse response, String limit, String message, String requestId) {
        metrics.shed(limit);
        response.header(HeaderNames.RETRY_AFTER, "1");
        return error(response, 503, "UNAVAILABLE", message, requestId);
    }

    /* the client's request id when it sent a valid one, else a new one; answered in X-Request-Id */
    static String requestId(ServerRequest request, ServerResponse response) {
        String requestId = request.headers().first(REQUEST_ID).filter(RequestIds::valid).orElseGet(RequestIds::create);
        response.header(REQUEST_ID, requestId);
        return requestId;
    }

    static int error(ServerResponse response, int status, String code, String message, String requestId) {
        return error(response, status, code, message, requestId, null);
    }

    private static int error(ServerResponse response, int status, String code, String message, String requestId,
                             JsonArray details) {
        response.status(io.helidon.http.Status.create(status));
        response.header(HeaderNames.CONTENT_TYPE, "application/json");
        response.send(HttpErrors.body(code, message, requestId, details));
        return status;
    }

    /* What the upstream answered, for the access log. */
    private static final class Outcome {
        private final Attempts attempts;
        private String grpc;
        /* for a stream: its events and how it ended, for the access log */
        private String streamed;
        private LimitAlgorithm.Token admitted;

        private Outcome(Attempts attempts) {
            this.attempts = attempts;
        }

        private void releaseAdmission() {
            if (admitted != null) {
                admitted.success();
                admitted = null;
            }
        }

        private String upstream(Route route) {
            SocketAddress address = attempts.peer();
            int extra = attempts.extra();
            return " upstream=" + route.backend() + (address instanceof InetSocketAddress inet
                    ? "@" + inet.getHostString() + ":" + inet.getPort() : "")
                   + (extra == 0 ? "" : " attempts=" + (extra + 1));
        }
    }
}
