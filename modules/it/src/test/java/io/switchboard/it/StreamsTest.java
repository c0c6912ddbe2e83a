package io.switchboard.it;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import io.switchboard.testkit.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.it.Api.send;
import static io.switchboard.it.Components.ready;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * post's WatchPosts through the gateway as Server-Sent Events and NDJSON, all as processes: two post instances on one
 * PostgreSQL database (a stream on one sees the posts written through the other), clients that read slowly, leave,
 * or lose their instance, a flood of streams, and a gateway that stops.
 */
@Timeout(value = 240, unit = SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StreamsTest {
    private static final String SSE = "Accept: text/event-stream";
    /* small limits, reached at their boundaries; a heartbeat that finds a departed client soon */
    private static final Map<String, String> GATEWAY = Map.of("GATEWAY_STREAMS_MAX", "8",
                                                              "GATEWAY_STREAMS_PER_CLIENT", "4",
                                                              "GATEWAY_STREAMS_HEARTBEAT", "PT0.2S",
                                                              "GATEWAY_STREAMS_SLOW_CLIENT_TIMEOUT", "PT2S",
                                                              "GATEWAY_TRUSTED_PROXIES", "127.0.0.1/32",
                                                              "WATCH_POLL_EVERY", "PT0.1S");
    private static PostgresServer postgres;
    private static EtcdServer etcd;
    private static TwoPosts stack;
    private static String token;

    @BeforeAll
    static void start() throws Exception {
        postgres = PostgresServer.start();
        etcd = EtcdServer.start();
        stack = TwoPosts.start(etcd, postgres, Map.of(), GATEWAY, "+4423000000");
        token = Api.find(Api.TOKEN, send(stack.gatewayPort, "POST", "/user/login", Api.credentials("+4423000000"), null));
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
        }
        if (etcd != null) {
            etcd.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    @Order(1)
    void sseAndNdjsonFollowersGetEveryPostOnceInOrderAndAReconnectResumesAfterItsLastEvent() {
        awaitNoStreams();
        List<String> created = new ArrayList<>();
        try (StreamClient events = StreamClient.open(stack.gatewayPort, "/post/watch", 0, SSE);
             StreamClient lines = StreamClient.open(stack.gatewayPort, "/post/watch", 0, "Accept: application/x-ndjson")) {
            assertThat(events.status()).isEqualTo(200);
            assertThat(events.header("Content-Type")).startsWith("text/event-stream");
            assertThat(events.header("Cache-Control")).isEqualTo("no-cache");
            assertThat(lines.status()).isEqualTo(200);
            assertThat(lines.header("Content-Type")).isEqualTo("application/x-ndjson");
            // both instances write, both instances' streams follow: one feed
            for (int i = 0; i < 30; i++) {
                created.add(createPost("followed " + i, "c"));
            }
            List<StreamClient.Event> received = new ArrayList<>();
            for (int i = 0; i < created.size(); i++) {
                received.add(events.event());
            }
            assertThat(received).extracting(StreamClient.Event::name).containsOnly("message");
            assertThat(received).extracting(e -> postId(JsonParser.parseString(e.data()).getAsJsonObject()))
                    .containsExactlyElementsOf(created);
            assertThat(received).extracting(e -> Long.parseLong(e.id())).isSorted().doesNotHaveDuplicates();
            List<String> byLine = new ArrayList<>();
            for (int i = 0; i < created.size(); i++) {
                byLine.add(postId(JsonParser.parseString(lines.jsonLine()).getAsJsonObject()));
            }
            assertThat(byLine).containsExactlyElementsOf(created);

            // a client that comes back with the id of the tenth event gets the twenty after it, then what is new
            try (StreamClient resumed = StreamClient.open(stack.gatewayPort, "/post/watch", 0, SSE,
                                                          "Last-Event-ID: " + received.get(9).id())) {
                List<String> rest = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    rest.add(postId(JsonParser.parseString(resumed.event().data()).getAsJsonObject()));
                }
                assertThat(rest).containsExactlyElementsOf(created.subList(10, 30));
                String later = createPost("after the reconnect", "c");
                assertThat(postId(JsonParser.parseString(resumed.event().data()).getAsJsonObject())).isEqualTo(later);
                assertThat(events.event().data()).contains(later);
            }
        }
    }

    @Test
    @Order(2)
    void hostileStreamRequestsGetClearErrorsAndTheLimitsHoldAtTheirBoundaries() throws Exception {
        awaitNoStreams();
        int port = stack.gatewayPort;
        try (StreamClient html = StreamClient.open(port, "/post/watch", 0, "Accept: text/html");
             StreamClient badCursor = StreamClient.open(port, "/post/watch?after=x", 0, SSE);
             StreamClient future = StreamClient.open(port, "/post/watch?after=999999999999", 0, SSE);
             StreamClient longId = StreamClient.open(port, "/post/watch", 0, SSE, "Last-Event-ID: " + "9".repeat(257));
             StreamClient garbled = StreamClient.open(port, "/post/watch", 0, "Accept: ;q=abc")) {
            assertThat(garbled.status()).isEqualTo(400);
            assertThat(garbled.body()).contains("the Accept header does not parse");
            assertThat(html.status()).isEqualTo(406);
            assertThat(html.body()).contains("text/event-stream or application/x-ndjson");
            assertThat(badCursor.status()).isEqualTo(400);
            assertThat(badCursor.body()).contains("\"INVALID_ARGUMENT\"", "after must be a cursor");
            assertThat(future.status()).isEqualTo(400);
            assertThat(future.body()).contains("\"OUT_OF_RANGE\"");
            assertThat(longId.status()).isEqualTo(400);
            assertThat(longId.body()).contains("Last-Event-ID is longer than 256 characters");
        }
        // 256 characters is a Last-Event-ID the gateway passes on (and post refuses, as no cursor of its)
        try (StreamClient longest = StreamClient.open(port, "/post/watch", 0, SSE, "Last-Event-ID: " + "9".repeat(256))) {
            assertThat(longest.status()).isEqualTo(400);
            assertThat(longest.body()).contains("after must be a cursor");
        }

        // per client (the gateway trusts 127.0.0.1 to name it): 4, then 503
        List<StreamClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                open.add(StreamClient.open(port, "/post/watch", 0, SSE, "X-Forwarded-For: 192.0.2.1"));
            }
            assertThat(open).extracting(StreamClient::status).containsOnly(200);
            try (StreamClient fifth = StreamClient.open(port, "/post/watch", 0, SSE, "X-Forwarded-For: 192.0.2.1")) {
                assertThat(fifth.status()).isEqualTo(503);
                assertThat(fifth.header("Retry-After")).isEqualTo("1");
                assertThat(fifth.body()).contains("\"UNAVAILABLE\"", "as many streams as it may");
            }
            // in all: 8, then 503 whoever asks
            for (int i = 0; i < 4; i++) {
                open.add(StreamClient.open(port, "/post/watch", 0, SSE, "X-Forwarded-For: 192.0.2.2"));
            }
            assertThat(open).extracting(StreamClient::status).containsOnly(200);
            try (StreamClient ninth = StreamClient.open(port, "/post/watch", 0, SSE, "X-Forwarded-For: 192.0.2.3")) {
                assertThat(ninth.status()).isEqualTo(503);
            }
            assertThat(metric(port, "switchboard_gateway_streams_refused_total", "limit=\"per-client\"")).isPositive();
            assertThat(metric(port, "switchboard_gateway_streams_refused_total", "limit=\"total\"")).isPositive();
            // one leaves: its place is free as soon as the gateway notices (its next heartbeat)
            open.remove(0).close();
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100)).until(() -> {
                try (StreamClient another = StreamClient.open(port, "/post/watch", 0, SSE, "X-Forwarded-For: 192.0.2.3")) {
                    return another.status() == 200;
                }
            });
        } finally {
            open.forEach(StreamClient::close);
        }
    }

    @Test
    @Order(3)
    void aClientThatLeavesHasItsUpstreamStreamCancelledAndOneThatStopsReadingIsCut() {
        awaitNoStreams();
        long cancelledBefore = postMetric("post_watch_cancelled_total");
        try (StreamClient leaving = StreamClient.open(stack.gatewayPort, "/post/watch", 0, SSE)) {
            assertThat(leaving.status()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(5)).until(() -> postMetric("post_watch_streams") == 1);
        }
        long leftAt = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                .until(() -> postMetric("post_watch_streams") == 0 && postMetric("post_watch_cancelled_total") > cancelledBefore);
        System.out.printf("the service saw the cancellation %d ms after the client left%n",
                          Duration.ofNanos(System.nanoTime() - leftAt).toMillis());
        assertThat(stack.gateway.output()).contains("end=client-gone");

        // a client that reads nothing: once the gateway's writes to it stay blocked 2 s, it is cut
        long cut = metric(stack.gatewayPort, "switchboard_gateway_streams_ended_total", "reason=\"slow-client\"");
        try (StreamClient stalled = StreamClient.open(stack.gatewayPort, "/post/watch", 2048, SSE)) {
            assertThat(stalled.status()).isEqualTo(200);
            String content = "x".repeat(16_000);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10)).until(() -> {
                createPost("unread", content);
                return metric(stack.gatewayPort, "switchboard_gateway_streams_ended_total", "reason=\"slow-client\"") > cut;
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> postMetric("post_watch_streams") == 0);
        }
    }

    @Test
    @Order(4)
    void aSlowReaderSlowsItsInstanceGetsEverythingInOrderOnceItReadsAndDelaysNoUnaryCall() throws Exception {
        awaitNoStreams();
        // a gateway that waits for slow clients a minute, and that is stopped at the end with a stream open
        int port = FreePorts.next();
        Map<String, String> patient = new HashMap<>(GATEWAY);
        patient.put("GATEWAY_STREAMS_SLOW_CLIENT_TIMEOUT", "PT60S");
        JavaProcess gateway = Components.gateway(stack.hubPort, port, patient);
        try (gateway) {
            await().atMost(Duration.ofSeconds(40)).until(() -> ready(port));
            int posts = 600;
            String content = "y".repeat(16_000);
            long sentBefore = postMetric("post_watch_sent_total");
            try (StreamClient slow = StreamClient.open(port, "/post/watch", 4096, SSE)) {
                assertThat(slow.status()).isEqualTo(200);
                List<String> created = Collections.synchronizedList(new ArrayList<>());
                AtomicLong slowestRead = new AtomicLong();
                ExecutorService writers = Executors.newFixedThreadPool(4);
                try {
                    List<Future<?>> done = new ArrayList<>();
                    for (int w = 0; w < 4; w++) {
                        done.add(writers.submit(() -> {
                            while (created.size() < posts) {
                                created.add(createPost("slowly read", content));
                                long start = System.nanoTime();
                                assertThat(send(port, "GET", "/post/" + stack.postId, null, null).statusCode()).isEqualTo(200);
                                slowestRead.accumulateAndGet(System.nanoTime() - start, Math::max);
                            }
                            return null;
                        }));
                    }
                    for (Future<?> writer : done) {
                        writer.get();
                    }
                } finally {
                    writers.shutdownNow();
                }
                // what the instances sent stops short: the kernel's socket buffers (a few MB on loopback), the stream's
                // 1 MiB window and 4 messages hold what the client has not read, and the instance waits
                Thread.sleep(1000);
                long sent = postMetric("post_watch_sent_total") - sentBefore;
                System.out.printf("%d posts of 16 kB written, %d sent to a client that read nothing; slowest GET "
                                  + "meanwhile %d ms%n", created.size(), sent, Duration.ofNanos(slowestRead.get()).toMillis());
                assertThat(sent).isLessThan(created.size() * 2 / 3);
                assertThat(Duration.ofNanos(slowestRead.get())).isLessThan(Duration.ofSeconds(1));

                // it reads: every post, once, in the feed's order
                List<StreamClient.Event> received = new ArrayList<>();
                while (received.size() < created.size()) {
                    received.add(slow.event());
                }
                assertThat(received).extracting(e -> postId(JsonParser.parseString(e.data()).getAsJsonObject()))
                        .containsExactlyInAnyOrderElementsOf(created);
                assertThat(received).extracting(e -> Long.parseLong(e.id())).isSorted().doesNotHaveDuplicates();
            }

            // SIGTERM with a stream open: it ends with a reconnect event, and the gateway exits 0
            try (StreamClient open = StreamClient.open(port, "/post/watch", 0, SSE);
                 StreamClient lines = StreamClient.open(port, "/post/watch", 0, "Accept: application/x-ndjson")) {
                assertThat(open.status()).isEqualTo(200);
                assertThat(lines.status()).isEqualTo(200);
                Future<Integer> exit = Executors.newVirtualThreadPerTaskExecutor().submit(() -> gateway.stop(Duration.ofSeconds(15)));
                StreamClient.Event last = open.event();
                assertThat(last.name()).isEqualTo("reconnect");
                assertThat(last.data()).contains("\"UNAVAILABLE\"", "the gateway is stopping: reconnect");
                assertThat(open.event()).as("the stream ends after it").isNull();
                assertThat(lines.jsonLine()).contains("\"error\"", "the gateway is stopping: reconnect");
                assertThat(lines.jsonLine()).isNull();
                assertThat(exit.get()).isZero();
            }
        }
    }

    @Test
    @Order(5)
    void thousandsOfStreamsOpenedAndDroppedAtOnceLeaveTheGatewayWithinItsLimitsAndServing() throws Exception {
        awaitNoStreams();
        int port = stack.gatewayPort;
        AtomicInteger opened = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger reads = new AtomicInteger();
        List<Integer> readStatuses = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService flood = Executors.newFixedThreadPool(16)) {
            Future<?> reader = Executors.newVirtualThreadPerTaskExecutor().submit(() -> {
                while (opened.get() + refused.get() + failures.size() < 2000) {
                    readStatuses.add(send(port, "GET", "/post/" + stack.postId, null, null).statusCode());
                    reads.incrementAndGet();
                }
                return null;
            });
            for (int i = 0; i < 2000; i++) {
                int n = i;
                flood.submit(() -> {
                    // some from one address, some from many; every one dropped as soon as its head came
                    String from = "X-Forwarded-For: 198.51.100." + (n % 3 == 0 ? 7 : n % 250);
                    try (StreamClient stream = StreamClient.open(port, "/post/watch", 0, SSE, from)) {
                        (stream.status() == 200 ? opened : refused).incrementAndGet();
                    } catch (RuntimeException e) {
                        failures.add(e.toString());
                    }
                });
            }
            flood.shutdown();
            assertThat(flood.awaitTermination(120, SECONDS)).isTrue();
            reader.get();
        }
        System.out.printf("2000 streams opened and dropped: %d served, %d refused; %d GETs meanwhile%n", opened.get(),
                          refused.get(), reads.get());
        assertThat(opened.get()).isPositive();
        assertThat(refused.get()).isPositive();
        assertThat(failures).isEmpty();
        assertThat(readStatuses).isNotEmpty().containsOnly(200);
        // every stream ends: the gateway's and the instances'
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> metric(port, "switchboard_gateway_streams") == 0 && postMetric("post_watch_streams") == 0);
        assertThat(send(port, "GET", "/post/" + stack.postId, null, null).statusCode()).isEqualTo(200);
        try (StreamClient after = StreamClient.open(port, "/post/watch", 0, SSE)) {
            assertThat(after.status()).isEqualTo(200);
        }
    }

    @Test
    @Order(6)
    void theInstanceServingAStreamIsKilledAndItsClientGetsAnErrorEventPromptly() {
        awaitNoStreams();
        try (StreamClient events = StreamClient.open(stack.gatewayPort, "/post/watch", 0, SSE)) {
            assertThat(events.status()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(5)).until(() -> postMetric("post_watch_streams") == 1);
            boolean onA = postMetric(stack.postPorts[0], "post_watch_streams") == 1;
            long killedAt = System.nanoTime();
            (onA ? stack.postA : stack.postB).kill();
            StreamClient.Event error = events.event();
            Duration after = Duration.ofNanos(System.nanoTime() - killedAt);
            System.out.printf("error event %d ms after the instance was killed%n", after.toMillis());
            assertThat(error.name()).isEqualTo("error");
            JsonObject body = JsonParser.parseString(error.data()).getAsJsonObject().getAsJsonObject("error");
            assertThat(body.get("code").getAsString()).isEqualTo("UNAVAILABLE");
            assertThat(body.has("requestId")).isTrue();
            assertThat(after).isLessThan(Duration.ofSeconds(3));
            assertThat(events.event()).as("the stream ends after it").isNull();
        }
    }

    private static String createPost(String title, String content) {
        HttpResponse<String> created = send(stack.gatewayPort, "POST", "/post", "{\"title\":\"" + title
                                                                               + "\",\"content\":\"" + content + "\"}", token);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return Api.find(Api.ID, created);
    }

    private static String postId(JsonObject message) {
        return message.getAsJsonObject("post").get("id").getAsString();
    }

    /* no stream of an earlier test is open, at the gateway or the instances */
    private static void awaitNoStreams() {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> metric(stack.gatewayPort, "switchboard_gateway_streams") == 0
                             && postMetric("post_watch_streams") == 0);
    }

    /* a post metric summed over the live instances */
    private static long postMetric(String name) {
        long sum = 0;
        for (int port : stack.postPorts) {
            sum += Math.max(0, postMetric(port, name));
        }
        return sum;
    }

    private static long postMetric(int port, String name) {
        return metric(port, name);
    }

    /*
     * A metric's value: the first series of that name whose labels hold the given ones (name="value"); 0 when there
     * is none, -1 when the component does not answer.
     */
    private static long metric(int port, String name, String... labels) {
        try {
            String metrics = Components.HTTP.send(HttpRequest.newBuilder(Components.url(port, "/observe/metrics"))
                                                          .timeout(Duration.ofSeconds(5)).build(),
                                                  HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? ([0-9.eE+-]+)$").matcher(metrics);
            while (m.find()) {
                String found = m.group(1) == null ? "" : m.group(1);
                if (java.util.Arrays.stream(labels).allMatch(found::contains)) {
                    return (long) Double.parseDouble(m.group(2));
                }
            }
            return 0;
        } catch (Exception e) {
            return -1;
        }
    }
}
