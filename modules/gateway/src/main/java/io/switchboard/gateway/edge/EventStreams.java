package io.switchboard.gateway.edge;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.protobuf.Message;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.helidon.common.config.Config;
import io.helidon.http.BadRequestException;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.common.media.type.MediaType;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HttpMediaType;
import io.helidon.http.ServerRequestHeaders;
import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Tag;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.ServerResponse;
import io.switchboard.gateway.transcode.Transcoder;
import io.switchboard.gateway.upstream.Attempts;
import io.switchboard.gateway.upstream.Upstreams;
import io.switchboard.schema.Route;
import io.switchboard.server.logging.RefusalLog;

/**
 * Server-streaming routes as HTTP streams: Server-Sent Events for {@code Accept: text/event-stream}, else
 * newline-delimited JSON ({@code application/x-ndjson}). Each message is one event (or line) in the protobuf JSON
 * mapping; the route's {@code event_id} field is each event's {@code id}, and a {@code Last-Event-ID} fills its
 * {@code resume_field}. The final gRPC status, when not OK, is an {@code error} event (a last {@code {"error":...}}
 * line) in the shape of unary errors.
 * <p>
 * Flow control end to end: the upstream call is asked for one message more each time one is written to the
 * client, at most {@code buffer} ahead, over a channel whose streams hold at most {@code window} bytes unread
 * ({@link Upstreams#Upstreams}), so that a client that reads slowly slows the instance and holds little memory here;
 * one whose writes block longer than {@code slow-client-timeout} is cut, and its upstream cancelled,
 * since its unread messages hold the flow-control window of the connection its stream shares with others. A
 * heartbeat (an SSE comment, an empty NDJSON line) keeps a quiet stream alive through proxies, and finds a client
 * that left; {@code idle-timeout} ends a stream with no message for that long. When the client goes, the upstream
 * call is cancelled at once. On shutdown every stream ends with a {@code reconnect} event.
 * <p>
 * Limits: {@code max} streams at once, {@code per-client} per client address; beyond, 503 with {@code Retry-After},
 * counted in {@code switchboard_gateway_streams_refused_total{limit}}. Thread safe.
 */
final class EventStreams implements AutoCloseable {
    static final HeaderName LAST_EVENT_ID = HeaderNames.create("Last-Event-ID");
    private static final System.Logger LOG = System.getLogger(EventStreams.class.getName());
    private static final HeaderName ACCEL_BUFFERING = HeaderNames.create("X-Accel-Buffering");
    private static final MediaType NDJSON = MediaTypes.create("application/x-ndjson");
    private static final byte[] SSE_HEARTBEAT = ":\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NDJSON_HEARTBEAT = "\n".getBytes(StandardCharsets.US_ASCII);
    /*
     * How long a stream waits for its call's headers, first message or end before it answers 200 and streams: a call
     * refused at once (a bad argument, a full instance) is answered with its HTTP status, as a unary call's error.
     */
    private static final long FIRST_ANSWER_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /* the Last-Event-ID a client may send back */
    private static final int MAX_EVENT_ID = 256;
    /* the SSE reconnection delay the streams ask of their clients */
    private static final int RETRY_MILLIS = 2000;
    /* put in a stream's queue when the gateway stops, and when the instance sent the answer's headers */
    private static final Object STOP = new Object();
    private static final Object HEADERS = new Object();

    private final int max;
    private final int perClient;
    private final int buffer;
    private final Duration heartbeat;
    private final Duration idleTimeout;
    private final Duration slowClientTimeout;
    private final Transcoder transcoder;
    private final AtomicInteger open = new AtomicInteger();
    private final Map<String, AtomicInteger> byClient = new ConcurrentHashMap<>();
    private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
    private final MeterRegistry registry;
    private final Map<String, Counter> refused = new ConcurrentHashMap<>();
    private final Map<String, Counter> ended = new ConcurrentHashMap<>();
    private final RefusalLog refusals = new RefusalLog();
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "gateway-stream-watchdog");
        thread.setDaemon(true);
        return thread;
    });
    private volatile boolean stopping;

    private EventStreams(Config config, Transcoder transcoder, MeterRegistry registry) {
        this.max = config.get("max").asInt().orElse(1000);
        this.perClient = config.get("per-client").asInt().orElse(16);
        this.buffer = config.get("buffer").asInt().orElse(4);
        this.heartbeat = config.get("heartbeat").as(Duration.class).orElse(Duration.ofSeconds(5));
        this.idleTimeout = config.get("idle-timeout").as(Duration.class).orElse(Duration.ofMinutes(10));
        this.slowClientTimeout = config.get("slow-client-timeout").as(Duration.class).orElse(Duration.ofSeconds(10));
        if (max < 1 || perClient < 1 || buffer < 1 || !positive(heartbeat) || !positive(idleTimeout)
            || !positive(slowClientTimeout)) {
            throw new IllegalArgumentException("gateway.streams: max, per-client and buffer must be at least 1, and "
                                               + "heartbeat, idle-timeout and slow-client-timeout positive");
        }
        this.transcoder = transcoder;
        this.registry = registry;
        registry.getOrCreate(Gauge.builder("switchboard.gateway.streams", open, AtomicInteger::get)
                                     .description("HTTP streams of server-streaming routes open now"));
        long sweep = Math.max(50, Math.min(slowClientTimeout.toMillis(), idleTimeout.toMillis()) / 4);
        watchdog.scheduleWithFixedDelay(this::sweep, sweep, sweep, TimeUnit.MILLISECONDS);
    }

    /**
     * The streams of a gateway, from its {@code gateway.streams} node.
     *
     * @param config     the node
     * @param transcoder the gateway's transcoder
     * @param registry   where the meters go
     * @return the streams
     * @throws IllegalArgumentException for a setting out of range
     */
    static EventStreams from(Config config, Transcoder transcoder, MeterRegistry registry) {
        return new EventStreams(config, transcoder, registry);
    }

    private static boolean positive(Duration duration) {
        return !duration.isNegative() && !duration.isZero();
    }

    /**
     * A place for one more stream of a client.
     *
     * @param client the client's address, as the login limit counts it
     * @return the permit to close when the stream ends, or null when a limit is reached (answered and counted)
     */
    Permit admit(String client) {
        if (stopping) {
            return refuse("stopping", client);
        }
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            return refuse("total", client);
        }
        AtomicInteger mine = byClient.computeIfAbsent(client, c -> new AtomicInteger());
        if (mine.incrementAndGet() > perClient) {
            release(client, mine);
            open.decrementAndGet();
            return refuse("per-client", client);
        }
        return new Permit(client, mine);
    }

    private Permit refuse(String limit, String client) {
        refused.computeIfAbsent(limit, l -> registry.getOrCreate(
                Counter.builder("switchboard.gateway.streams.refused")
                        .description("Streams refused with 503, by limit (total, per-client, stopping)")
                        .tags(List.of(Tag.create("limit", l))))).increment();
        if (!limit.equals("stopping") && refusals.first(limit + " " + client)) {
            LOG.log(System.Logger.Level.WARNING, "stream refused to " + client + ": the " + limit + " limit ("
                                                 + (limit.equals("total") ? max : perClient)
                                                 + ") is reached; further refusals to it within a minute are only "
                                                 + "counted");
        }
        return null;
    }

    private void release(String client, AtomicInteger count) {
        if (count.decrementAndGet() <= 0) {
            byClient.remove(client, count);
        }
    }

    /**
     * The request of a stream: a {@code Last-Event-ID} fills the route's resume field, unless the URL filled it.
     *
     * @param route   the route
     * @param request the request the URL made
     * @param headers the HTTP request's headers
     * @return the request to send
     * @throws IllegalArgumentException for a Last-Event-ID too long to be one, with a message for the client
     */
    static Message resumed(Route route, Message request, ServerRequestHeaders headers) {
        String last = headers.first(LAST_EVENT_ID).orElse("");
        if (route.resumeField().isEmpty() || last.isEmpty()) {
            return request;
        }
        if (last.length() > MAX_EVENT_ID) {
            throw new IllegalArgumentException("Last-Event-ID is longer than " + MAX_EVENT_ID + " characters");
        }
        var field = request.getDescriptorForType().findFieldByName(route.resumeField());
        if (!((String) request.getField(field)).isEmpty()) {
            return request;
        }
        return request.toBuilder().setField(field, last).build();
    }

    /**
     * What a client accepts: Server-Sent Events when it names {@code text/event-stream} before any JSON type, else
     * NDJSON ({@code application/x-ndjson}, {@code application/json}, any type, or no Accept header).
     *
     * @param headers the request's headers
     * @return true for SSE, false for NDJSON, null when it accepts neither (406)
     * @throws IllegalArgumentException for an Accept header that does not parse, with a message for the client
     */
    static Boolean wantsEvents(ServerRequestHeaders headers) {
        List<HttpMediaType> accepted;
        try {
            accepted = headers.acceptedTypes();
        } catch (BadRequestException | IllegalArgumentException e) {
            throw new IllegalArgumentException("the Accept header does not parse");
        }
        if (accepted.isEmpty()) {
            return false;
        }
        for (HttpMediaType type : accepted) {
            if (type.qualityFactor() <= 0) {
                continue;
            }
            if (type.mediaType().text().equals("text/event-stream")) {
                return true;
            }
            if (type.test(NDJSON) || type.test(MediaTypes.APPLICATION_JSON)) {
                return false;
            }
        }
        return null;
    }

    /**
     * Serves one stream until it ends.
     *
     * @param route     the route
     * @param call      its call, from {@link Upstreams#stream}, through this stream's {@link Upstream} listener
     * @param upstream  the call's listener, given to {@link Upstreams#stream}
     * @param response  the HTTP response, not sent yet
     * @param events    SSE (else NDJSON)
     * @param requestId the request's id
     * @return how the stream went, for the access log and the metrics
     */
    Ended serve(Route route, ClientCall<Message, Message> call, Upstream upstream, ServerResponse response,
                boolean events, String requestId) {
        Stream stream = new Stream(call, upstream, Thread.currentThread());
        streams.add(stream);
        try {
            if (stopping) {
                call.cancel("the gateway is stopping", null);
                return new Ended(0, "stopping", Status.UNAVAILABLE.withDescription("the gateway is stopping"), false);
            }
            call.request(buffer);
            Object first = upstream.items.poll(FIRST_ANSWER_NANOS, TimeUnit.NANOSECONDS);
            if (first == STOP) {
                return new Ended(0, "stopping", Status.UNAVAILABLE.withDescription("the gateway is stopping"), false);
            }
            if (first instanceof Status status) {
                return new Ended(0, "upstream", status, false);
            }
            response.status(io.helidon.http.Status.OK_200);
            response.header(HeaderNames.CONTENT_TYPE, events ? "text/event-stream; charset=utf-8" : "application/x-ndjson");
            response.header(HeaderNames.CACHE_CONTROL, "no-cache");
            response.header(ACCEL_BUFFERING, "no");
            try (OutputStream out = response.outputStream()) {
                return stream(route, stream, upstream, first, out, events, requestId);
            }
        } catch (InterruptedException e) {
            return new Ended(stream.messages, stream.reason == null ? "client-gone" : stream.reason, null, true);
        } catch (UncheckedIOException | IOException | CloseConnectionException e) {
            // the client went (or was cut) while a write was under way
            return new Ended(stream.messages, stream.reason == null ? "client-gone" : stream.reason, null, true);
        } finally {
            streams.remove(stream);
            if (!upstream.ended) {
                call.cancel(stream.reason == null ? "the client went" : stream.reason, null);
            }
            Thread.interrupted();
        }
    }

    private Ended stream(Route route, Stream stream, Upstream upstream, Object first, OutputStream out, boolean events,
                         String requestId) throws IOException, InterruptedException {
        if (events) {
            write(stream, out, ("retry: " + RETRY_MILLIS + "\n\n").getBytes(StandardCharsets.US_ASCII));
        } else {
            out.flush();
        }
        Object item = first != null && first != HEADERS ? first
                : upstream.items.poll(heartbeat.toNanos(), TimeUnit.NANOSECONDS);
        long quietSince = System.nanoTime();
        while (true) {
            if (item == HEADERS) {
                item = upstream.items.poll(heartbeat.toNanos(), TimeUnit.NANOSECONDS);
                continue;
            }
            if (item == STOP || item == null && stopping) {
                write(stream, out, ending(events, "reconnect", "UNAVAILABLE", "the gateway is stopping: reconnect",
                                          requestId));
                return new Ended(stream.messages, "stopping", null, true);
            }
            if (item == null) {
                if (System.nanoTime() - quietSince > idleTimeout.toNanos()) {
                    write(stream, out, ending(events, "reconnect", "DEADLINE_EXCEEDED",
                                              "no event for " + idleTimeout.toSeconds() + " s: reconnect", requestId));
                    return new Ended(stream.messages, "idle", null, true);
                }
                write(stream, out, events ? SSE_HEARTBEAT : NDJSON_HEARTBEAT);
            } else if (item instanceof Message message) {
                write(stream, out, event(route, message, events));
                stream.messages++;
                quietSince = System.nanoTime();
                stream.call.request(1);
            } else {
                Status status = (Status) item;
                if (!status.isOk()) {
                    write(stream, out, ending(events, "error", status.getCode().name(), HttpErrors.clientMessage(status),
                                              requestId));
                }
                return new Ended(stream.messages, "upstream", status, true);
            }
            item = upstream.items.poll(heartbeat.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private void write(Stream stream, OutputStream out, byte[] bytes) throws IOException {
        stream.writingSince = System.nanoTime();
        out.write(bytes);
        out.flush();
        stream.writingSince = 0;
    }

    private byte[] event(Route route, Message message, boolean events) {
        byte[] json = transcoder.response(route, message);
        if (!events) {
            byte[] line = new byte[json.length + 1];
            System.arraycopy(json, 0, line, 0, json.length);
            line[json.length] = '\n';
            return line;
        }
        StringBuilder event = new StringBuilder(json.length + 64);
        if (!route.eventIdField().isEmpty()) {
            var field = message.getDescriptorForType().findFieldByName(route.eventIdField());
            // an id never holds a line break (it would end the field), nor a NUL (clients ignore such ids)
            event.append("id: ").append(((String) message.getField(field)).replaceAll("[\r\n\u0000]", "")).append('\n');
        }
        // the JSON printer escapes line breaks inside strings: the data is one line
        return event.append("data: ").append(new String(json, StandardCharsets.UTF_8)).append("\n\n").toString()
                .getBytes(StandardCharsets.UTF_8);
    }

    /* the last event of a stream: its status in the shape of unary errors */
    private static byte[] ending(boolean events, String event, String code, String message, String requestId) {
        String body = new String(HttpErrors.body(code, message, requestId), StandardCharsets.UTF_8);
        return (events ? "event: " + event + "\ndata: " + body + "\n\n" : body + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /* cuts the streams whose client stopped reading, and wakes those whose gateway stops */
    private void sweep() {
        long now = System.nanoTime();
        for (Stream stream : streams) {
            long since = stream.writingSince;
            if (since != 0 && now - since > slowClientTimeout.toNanos() && stream.reason == null) {
                stream.cut("slow-client", "the client read too slowly");
            }
        }
    }

    /** Ends every stream with a reconnect event, and refuses new ones. */
    @Override
    public void close() {
        stopping = true;
        streams.forEach(stream -> stream.upstream.items.add(STOP));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (!streams.isEmpty() && System.nanoTime() < until) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        watchdog.shutdownNow();
    }

    /**
     * How a stream ended.
     *
     * @param messages  messages written
     * @param reason    upstream (the call ended), client-gone, slow-client, idle, stopping
     * @param status    the call's status, when it ended
     * @param committed whether the 200 and the stream were sent (else the status is to be answered as an error)
     */
    record Ended(int messages, String reason, Status status, boolean committed) {
        void count(EventStreams streams) {
            streams.ended.computeIfAbsent(reason, r -> streams.registry.getOrCreate(
                    Counter.builder("switchboard.gateway.streams.ended")
                            .description("Streams ended, by reason (upstream, client-gone, slow-client, idle, stopping)")
                            .tags(List.of(Tag.create("reason", r))))).increment();
        }
    }

    /** A stream's place among the limits; closing gives it back. */
    final class Permit implements AutoCloseable {
        private final String client;
        private final AtomicInteger count;
        private boolean closed;

        private Permit(String client, AtomicInteger count) {
            this.client = client;
            this.count = count;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                release(client, count);
                open.decrementAndGet();
            }
        }
    }

    /** The listener of a stream's upstream call: its messages and its end, for the stream's thread. */
    static final class Upstream extends ClientCall.Listener<Message> {
        /* at most the messages requested, and the call's status */
        private final BlockingQueue<Object> items = new LinkedBlockingQueue<>();
        private volatile boolean ended;

        @Override
        public void onHeaders(Metadata headers) {
            items.add(HEADERS);
        }

        @Override
        public void onMessage(Message message) {
            items.add(message);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            ended = true;
            items.add(status);
        }
    }

    /* one stream being served */
    private static final class Stream {
        private final ClientCall<Message, Message> call;
        private final Upstream upstream;
        private final Thread thread;
        private volatile long writingSince;
        private volatile String reason;
        private int messages;

        Stream(ClientCall<Message, Message> call, Upstream upstream, Thread thread) {
            this.call = call;
            this.upstream = upstream;
            this.thread = thread;
        }

        void cut(String why, String description) {
            reason = why;
            call.cancel(description, null);
            // a write blocked on a client that reads nothing: interrupting the thread closes its socket
            thread.interrupt();
        }
    }
}
