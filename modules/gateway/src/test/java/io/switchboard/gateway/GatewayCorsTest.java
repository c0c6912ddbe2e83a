package io.switchboard.gateway;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpServer;
import io.switchboard.hub.HubServer;
import io.switchboard.post.PostServer;
import io.switchboard.testkit.Chromium;
import io.switchboard.testkit.Stack;
import io.switchboard.user.UserServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Browsers on other origins (gateway.cors): off by default; preflights answered from the live route table; an
 * allowed origin's page reads answers, a refused one's cannot, checked in a real headless Chromium on two loopback
 * origins.
 */
@Timeout(value = 120, unit = SECONDS)
class GatewayCorsTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    @RegisterExtension
    static final Stack STACK = new Stack();
    private static HubServer hub;
    /** Two pages' servers: the allowed origin's and another. */
    private static HttpServer allowedPage;
    private static HttpServer otherPage;
    private static GatewayServer gateway;
    private static WebDriver browser;

    @BeforeAll
    static void start() throws IOException {
        hub = STACK.start(HubServer.start(STACK.hubConfig()));
        STACK.start(UserServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        STACK.start(PostServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        allowedPage = page();
        otherPage = page();
        gateway = STACK.start(GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of(
                "gateway.cors.allowed-origins", "https://app.example.com," + origin(allowedPage)))));
        await().atMost(Duration.ofSeconds(15)).until(() -> gateway.routedServices().containsAll(Set.of("user", "post")));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        for (HttpServer page : new HttpServer[] {allowedPage, otherPage}) {
            if (page != null) {
                page.stop(0);
            }
        }
    }

    @Test
    void offByDefaultAPreflightIsAnOptionsRequestLikeAnyOther() throws Exception {
        try (GatewayServer plain = GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of()))) {
            await().atMost(Duration.ofSeconds(15)).until(() -> plain.routedServices().contains("post"));
            HttpResponse<String> preflight = send(plain.port(), "OPTIONS", "/post/abc",
                                                  Map.of("Origin", origin(allowedPage),
                                                         "Access-Control-Request-Method", "GET"));
            assertThat(preflight.statusCode()).isEqualTo(405);
            assertThat(preflight.headers().firstValue("Allow")).hasValue("DELETE, GET");
            assertThat(preflight.headers().map().keySet()).noneMatch(h -> h.toLowerCase().startsWith("access-control"));
            HttpResponse<String> actual = send(plain.port(), "GET", "/post/abc", Map.of("Origin", origin(allowedPage)));
            assertThat(actual.headers().map().keySet()).noneMatch(h -> h.toLowerCase().startsWith("access-control"));
        }
    }

    @Test
    void aPreflightIsAnsweredFromTheRouteTable() throws Exception {
        String origin = origin(allowedPage);
        HttpResponse<String> allowed = preflight(origin, "/post/abc", "DELETE", "authorization, x-request-id");
        assertThat(allowed.statusCode()).isEqualTo(204);
        assertThat(allowed.headers().firstValue("Access-Control-Allow-Origin")).hasValue(origin);
        // the methods this path has, from post's routes: no more
        assertThat(allowed.headers().firstValue("Access-Control-Allow-Methods")).hasValue("DELETE, GET");
        assertThat(allowed.headers().firstValue("Access-Control-Allow-Headers")).hasValue("authorization, x-request-id");
        assertThat(allowed.headers().firstValue("Access-Control-Max-Age")).hasValue("600");
        assertThat(allowed.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();
        assertThat(allowed.headers().firstValue("Vary")).hasValueSatisfying(v -> assertThat(v).contains("Origin"));
        assertThat(preflight("https://app.example.com", "/post", "POST", "content-type").statusCode()).isEqualTo(204);

        // refused: another origin, a method the path does not have, a header not allowed, no such path
        assertRefused(preflight(origin(otherPage), "/post/abc", "GET", null), 403, "origin not allowed");
        assertRefused(preflight("https://app.example.com.evil.test", "/post/abc", "GET", null), 403, "origin not allowed");
        assertRefused(preflight("null", "/post/abc", "GET", null), 403, "origin not allowed");
        assertRefused(preflight(origin, "/post/abc", "PUT", null), 403,
                      "method 'PUT' not allowed on this path (it has DELETE, GET)");
        assertRefused(preflight(origin, "/post/abc", "GET", "authorization, x-evil"), 403,
                      "request header 'x-evil' not allowed");
        assertRefused(preflight(origin, "/no/such/path", "GET", null), 404, "no such route");
        // at most 32 headers asked for: 32 pass, 33 are refused unread
        String allowedHeaders = "authorization, content-type, x-request-id, traceparent";
        String thirtyTwo = String.join(", ", IntStream.range(0, 8).mapToObj(i -> allowedHeaders).toList());
        assertThat(preflight(origin, "/post/abc", "GET", thirtyTwo).statusCode()).isEqualTo(204);
        assertRefused(preflight(origin, "/post/abc", "GET", thirtyTwo + ", tracestate"), 403,
                      "more than 32 request headers asked for");
        // a hostile method name comes back short
        HttpResponse<String> hostile = preflight(origin, "/post/abc", "EVIL" + "x".repeat(100), null);
        assertRefused(hostile, 403, "method 'EVIL" + "x".repeat(36) + "...' not allowed");
    }

    @Test
    void anAllowedOriginReadsAnswersErrorsIncludedAndNoOtherDoes() throws Exception {
        String origin = origin(allowedPage);
        HttpResponse<String> missing = send(gateway.port(), "GET", "/post/missing", Map.of("Origin", origin));
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("Access-Control-Allow-Origin")).hasValue(origin);
        assertThat(missing.headers().firstValue("Access-Control-Expose-Headers"))
                .hasValue("X-Request-Id, Retry-After, WWW-Authenticate");
        HttpResponse<String> other = send(gateway.port(), "GET", "/post/missing", Map.of("Origin", origin(otherPage)));
        assertThat(other.statusCode()).isEqualTo(404);
        assertThat(other.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        assertThat(other.headers().firstValue("Vary")).hasValue("Origin");
    }

    @Test
    void credentialsOnlyForOriginsListedByName() throws Exception {
        // configured in another case and with the default port: matched as browsers send it
        try (GatewayServer withCredentials = GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of(
                "gateway.cors.allowed-origins", "https://App.Example.com:443", "gateway.cors.allow-credentials", "true")))) {
            await().atMost(Duration.ofSeconds(15)).until(() -> withCredentials.routedServices().contains("post"));
            HttpResponse<String> answer = send(withCredentials.port(), "GET", "/post/missing",
                                               Map.of("Origin", "https://app.example.com"));
            assertThat(answer.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://app.example.com");
            assertThat(answer.headers().firstValue("Access-Control-Allow-Credentials")).hasValue("true");
        }
        try (GatewayServer any = GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of(
                "gateway.cors.allowed-origins", "*")))) {
            await().atMost(Duration.ofSeconds(15)).until(() -> any.routedServices().contains("post"));
            HttpResponse<String> answer = send(any.port(), "GET", "/post/missing", Map.of("Origin", "https://a.test"));
            assertThat(answer.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
            assertThat(answer.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();
        }
        // misconfigurations stop the gateway at start, saying which
        assertThatThrownBy(() -> GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of(
                "gateway.cors.allowed-origins", "*", "gateway.cors.allow-credentials", "true"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not *");
        for (String bad : List.of("app.example.com", "https://app.example.com/", "https://app.example.com/path",
                                  "ftp://app.example.com", "https://user@app.example.com")) {
            assertThatThrownBy(() -> GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of(
                    "gateway.cors.allowed-origins", bad)))).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not an origin");
        }
        assertThatThrownBy(() -> GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of(
                "gateway.cors.allowed-origins", "https://app.example.com", "gateway.cors.max-age", "PT25H"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max-age");
    }

    @Test
    void aPageOnTheAllowedOriginCallsTheApiInChromiumAndAPageOnAnotherCannot() throws Exception {
        String phone = "+4475" + System.nanoTime() % 100_000_000;
        String credentials = "{\"phoneNumber\":\"" + phone + "\",\"userPassword\":\"secret pass\"}";
        assertThat(send(gateway.port(), "POST", "/user/register", credentials,
                        Map.of("Content-Type", "application/json")).statusCode()).isEqualTo(201);
        String token = JsonParser.parseString(send(gateway.port(), "POST", "/user/login", credentials,
                                                   Map.of("Content-Type", "application/json")).body())
                .getAsJsonObject().get("token").getAsString();
        browser = Chromium.start();
        String api = "http://127.0.0.1:" + gateway.port();

        // a JSON POST with a bearer token: the browser sends a preflight first, then the request
        browser.get(origin(allowedPage) + "/");
        String created = call(api + "/post", token);
        assertThat(created).startsWith("201 ").contains("\"title\":\"from a page\"");
        // the exposed request id is readable by the page
        assertThat(created).containsPattern("request-id=[0-9a-f-]{36}");

        browser.get(origin(otherPage) + "/");
        assertThat(call(api + "/post", token)).startsWith("refused: TypeError");
    }

    /* In the browser's current page: POST a post with fetch, "<status> request-id=<id> <body>" or "refused: ..." */
    private static String call(String url, String token) {
        Object result = ((JavascriptExecutor) browser).executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                + "fetch(arguments[0], {method: 'POST', headers: {'Content-Type': 'application/json',"
                + " 'Authorization': 'Bearer ' + arguments[1]}, body: JSON.stringify({title: 'from a page', content: 'c'})})"
                + ".then(r => r.text().then(t => done(r.status + ' request-id=' + r.headers.get('X-Request-Id') + ' ' + t)))"
                + ".catch(e => done('refused: ' + e));", url, token);
        return String.valueOf(result);
    }

    private static HttpResponse<String> preflight(String origin, String path, String method, String headers)
            throws Exception {
        Map<String, String> request = new HashMap<>(Map.of("Origin", origin, "Access-Control-Request-Method", method));
        if (headers != null) {
            request.put("Access-Control-Request-Headers", headers);
        }
        return send(gateway.port(), "OPTIONS", path, request);
    }

    private static void assertRefused(HttpResponse<String> answer, int status, String message) {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(status);
        assertThat(answer.body()).contains(message);
        assertThat(answer.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }

    private static HttpResponse<String> send(int port, String method, String path, Map<String, String> headers)
            throws IOException, InterruptedException {
        return send(port, method, path, null, headers);
    }

    private static HttpResponse<String> send(int port, String method, String path, String body,
                                             Map<String, String> headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /* A page's server on loopback: an empty HTML page at /, from which the browser's script calls the gateway. */
    private static HttpServer page() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] html = "<!doctype html><title>page</title>".getBytes(StandardCharsets.UTF_8);
        server.createContext("/", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "text/html");
            exchange.sendResponseHeaders(200, html.length);
            exchange.getResponseBody().write(html);
            exchange.close();
        });
        server.start();
        return server;
    }

    private static String origin(HttpServer page) {
        return "http://127.0.0.1:" + page.getAddress().getPort();
    }
}
