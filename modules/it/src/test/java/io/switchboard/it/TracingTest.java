package io.switchboard.it;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.PostgresServer;
import io.switchboard.testkit.ZipkinServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One trace per request, in a real tracing backend: the gateway, a hub, user and two post instances on PostgreSQL run as
 * processes with tracing on ({@code OTEL_EXPORTER_ZIPKIN_ENDPOINT}), and export their spans to a real Zipkin server.
 */
@Timeout(value = 240, unit = SECONDS)
class TracingTest {
    private static final Pattern TRACE_IN_LOG = Pattern.compile(" trace=([0-9a-f]{32})");

    private static PostgresServer postgres;
    private static EtcdServer etcd;
    private static ZipkinServer zipkin;
    private static TwoPosts stack;
    private static String token;

    @BeforeAll
    static void start() throws Exception {
        zipkin = ZipkinServer.start();
        postgres = PostgresServer.start();
        etcd = EtcdServer.start();
        stack = TwoPosts.start(etcd, postgres, Map.of(),
                               Map.of("OTEL_EXPORTER_ZIPKIN_ENDPOINT", zipkin.spansEndpoint(),
                                      // spans reach Zipkin within a fraction of a second, not the default 5 s
                                      "OTEL_BSP_SCHEDULE_DELAY", "200"),
                               "+4424000555");
        token = Api.registerAndLogin(stack.gatewayPort, "+4424000556");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {stack, etcd, postgres, zipkin}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception e) {
                System.err.println("cannot stop " + closeable + ": " + e);
            }
        }
    }

    @Test
    void aPostThroughTheGatewayIsOneTraceFromTheGatewayToTheDatabaseAndTheAccessLogNamesIt() {
        HttpResponse<String> created = Api.send(stack.gatewayPort, "POST", "/post",
                                                "{\"title\":\"traced title\",\"content\":\"secret words\"}", token);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String requestId = created.headers().firstValue("X-Request-Id").orElseThrow();
        String traceId = traceInAccessLog(requestId);

        List<JsonObject> spans = trace(traceId, spans1 -> find(spans1, "post", "CLIENT", "insert").isPresent());
        JsonObject request = find(spans, "gateway", "SERVER", "post /post").orElseThrow(() -> missing("gateway", spans));
        assertThat(request.has("parentId")).as("the gateway's span starts the trace").isFalse();
        assertThat(tag(request, "switchboard.request_id")).isEqualTo(requestId);
        assertThat(tag(request, "http.response.status_code")).isEqualTo("201");
        JsonObject attempt = find(spans, "gateway", "CLIENT", "switchboard.post.v1.postservice/createpost")
                .orElseThrow(() -> missing("attempt", spans));
        assertThat(parent(attempt)).isEqualTo(id(request));
        assertThat(List.of(String.valueOf(stack.postPorts[0]), String.valueOf(stack.postPorts[1])))
                .as("the attempt names its instance").contains(port(attempt));
        JsonObject served = find(spans, "post", "SERVER", "switchboard.post.v1.postservice/createpost")
                .orElseThrow(() -> missing("post's server span", spans));
        assertThat(parent(served)).as("post continues the attempt's context").isEqualTo(id(attempt));
        assertThat(served.getAsJsonObject("tags").toString()).as("post's span holds the request id").contains(requestId);
        JsonObject insert = find(spans, "post", "CLIENT", "insert").orElseThrow(() -> missing("database span", spans));
        assertThat(parent(insert)).as("the statement runs within post's call").isEqualTo(id(served));
        assertThat(tag(insert, "db.system")).isEqualTo("postgresql");
        assertThat(insert.getAsJsonObject("tags").toString()).as("the statement's kind and table, not its values")
                .contains("posts").doesNotContain("traced title").doesNotContain("secret words");
    }

    @Test
    void anIncomingTraceparentIsContinued() throws Exception {
        String traceId = HexFormat.of().formatHex(randomBytes(16));
        String parentId = HexFormat.of().formatHex(randomBytes(8));
        HttpResponse<String> answer = Components.HTTP.send(
                HttpRequest.newBuilder(Components.url(stack.gatewayPort, "/post/" + stack.postId))
                        .header("traceparent", "00-" + traceId + "-" + parentId + "-01")
                        .header("X-Request-Id", "traced-get-1")
                        .timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(traceInAccessLog("traced-get-1")).isEqualTo(traceId);

        List<JsonObject> spans = trace(traceId, s -> find(s, "post", "SERVER", "getpost").isPresent());
        JsonObject request = find(spans, "gateway", "SERVER", "get /post/{id}").orElseThrow(() -> missing("gateway", spans));
        assertThat(parent(request)).as("the caller's span is the gateway span's parent").isEqualTo(parentId);
    }

    @Test
    void aCallWhoseFirstAttemptHitsAFrozenInstanceShowsBothAttempts() {
        stack.postB.freeze();
        try {
            List<JsonObject> spans = null;
            // least-outstanding balancing sends a first call or two to the frozen instance; the hedge then answers
            for (int i = 0; i < 20 && spans == null; i++) {
                HttpResponse<String> answer = Api.send(stack.gatewayPort, "GET", "/post/" + stack.postId, null, null);
                assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                String traceId = traceInAccessLog(answer.headers().firstValue("X-Request-Id").orElseThrow());
                List<JsonObject> trace = trace(traceId, s -> find(s, "post", "SERVER", "getpost").isPresent());
                if (attempts(trace).size() > 1) {
                    spans = trace;
                }
            }
            assertThat(spans).as("a GET hedged away from the frozen instance within 20").isNotNull();
            List<JsonObject> attempts = attempts(spans);
            assertThat(attempts.stream().map(TracingTest::port).distinct().toList())
                    .as("each attempt on its own instance")
                    .containsExactlyInAnyOrder(String.valueOf(stack.postPorts[0]), String.valueOf(stack.postPorts[1]));
            String request = id(find(spans, "gateway", "SERVER", "get /post/{id}").orElseThrow());
            assertThat(attempts).allSatisfy(attempt -> assertThat(parent(attempt)).isEqualTo(request));
        } finally {
            stack.postB.thaw();
        }
    }

    @Test
    void registrationsAndRenewalsAreTracedIntoTheHub() {
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            String names = zipkin.api("/api/v2/spans?serviceName=hub").body();
            assertThat(names).contains("switchboard.hub.v1.hub/register", "switchboard.hub.v1.hub/keepalive");
        });
        // a renewal of post's lease: post's client span, and the hub's server span as its child, in one trace
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            String traces = zipkin.api("/api/v2/traces?serviceName=post&spanName=switchboard.hub.v1.hub/keepalive"
                                       + "&limit=10").body();
            boolean found = false;
            for (JsonElement trace : JsonParser.parseString(traces).getAsJsonArray()) {
                List<JsonObject> spans = new ArrayList<>();
                trace.getAsJsonArray().forEach(span -> spans.add(span.getAsJsonObject()));
                Optional<JsonObject> renewal = find(spans, "post", "CLIENT", "switchboard.hub.v1.hub/keepalive");
                Optional<JsonObject> renewed = find(spans, "hub", "SERVER", "switchboard.hub.v1.hub/keepalive");
                found |= renewal.isPresent() && renewed.isPresent() && id(renewal.get()).equals(parent(renewed.get()));
            }
            assertThat(found).as("a renewal traced from post into the hub: %s", traces).isTrue();
        });
    }

    @Test
    void theGatewaysLatencyHistogramLinksToATraceInItsExemplars() throws Exception {
        HttpResponse<String> answer = Api.send(stack.gatewayPort, "GET", "/post/" + stack.postId, null, null);
        assertThat(answer.statusCode()).isEqualTo(200);
        HttpResponse<String> metrics = Components.HTTP.send(
                HttpRequest.newBuilder(Components.url(stack.gatewayPort, "/observe/metrics"))
                        .header("Accept", "application/openmetrics-text")
                        .timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher exemplar = Pattern.compile("switchboard_gateway_request_duration_seconds_bucket\\{[^}]*route=\"/post/\\{id}\""
                                           + "[^}]*} \\S+ # \\{[^}]*trace_id=\"([0-9a-f]{32})\"")
                .matcher(metrics.body());
        assertThat(exemplar.find()).as("an exemplar on a bucket of GET /post/{id}:\n%s", metrics.body().lines()
                .filter(l -> l.contains("request_duration")).limit(20).toList()).isTrue();
        String traceId = exemplar.group(1);
        trace(traceId, s -> find(s, "gateway", "SERVER", "get /post/{id}").isPresent());
    }

    private static List<JsonObject> attempts(List<JsonObject> trace) {
        return trace.stream()
                .filter(s -> matches(s, "gateway", "CLIENT", "switchboard.post.v1.postservice/getpost"))
                .toList();
    }

    /* The trace's spans once it holds what is expected (Zipkin names spans and services in lower case). */
    private static List<JsonObject> trace(String traceId, java.util.function.Predicate<List<JsonObject>> complete) {
        List<List<JsonObject>> seen = new ArrayList<>();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> {
            HttpResponse<String> answer = zipkin.api("/api/v2/trace/" + traceId);
            if (answer.statusCode() != 200) {
                return false;
            }
            List<JsonObject> spans = new ArrayList<>();
            JsonParser.parseString(answer.body()).getAsJsonArray().forEach(s -> spans.add(s.getAsJsonObject()));
            seen.add(spans);
            return complete.test(spans);
        });
        return seen.getLast();
    }

    private static String traceInAccessLog(String requestId) {
        String[] found = new String[1];
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            found[0] = stack.gateway.output().lines().filter(line -> line.contains(" " + requestId + " "))
                    .map(TRACE_IN_LOG::matcher).filter(Matcher::find).map(m -> m.group(1)).findFirst().orElse(null);
            return found[0] != null;
        });
        return found[0];
    }

    private static Optional<JsonObject> find(List<JsonObject> spans, String service, String kind, String name) {
        return spans.stream().filter(s -> matches(s, service, kind, name)).findFirst();
    }

    private static boolean matches(JsonObject span, String service, String kind, String name) {
        return span.has("kind") && kind.equals(span.get("kind").getAsString())
               && service.equals(span.getAsJsonObject("localEndpoint").get("serviceName").getAsString())
               && span.has("name") && span.get("name").getAsString().contains(name);
    }

    private static String id(JsonObject span) {
        return span.get("id").getAsString();
    }

    private static String parent(JsonObject span) {
        return span.has("parentId") ? span.get("parentId").getAsString() : null;
    }

    private static String tag(JsonObject span, String name) {
        JsonObject tags = span.getAsJsonObject("tags");
        return tags == null || !tags.has(name) ? null : tags.get(name).getAsString();
    }

    /* the instance's port: Zipkin's remote endpoint, or the attribute itself */
    private static String port(JsonObject span) {
        JsonObject remote = span.getAsJsonObject("remoteEndpoint");
        if (remote != null && remote.has("port")) {
            return remote.get("port").getAsString();
        }
        return tag(span, "server.port");
    }

    private static AssertionError missing(String what, List<JsonObject> spans) {
        return new AssertionError("no " + what + " span in the trace: " + spans);
    }

    private static byte[] randomBytes(int count) {
        byte[] bytes = new byte[count];
        ThreadLocalRandom.current().nextBytes(bytes);
        bytes[0] |= 1;
        return bytes;
    }
}
