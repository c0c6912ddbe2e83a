package io.switchboard.gateway;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.google.gson.JsonParser;
import io.switchboard.comment.CommentServer;
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
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code /docs} in a real headless Chromium: Swagger UI from the gateway's jar lists the operations of user, post
 * and comment from the live document, under the page's strict Content-Security-Policy, and "Try it out" calls this
 * gateway, with a bearer token too.
 */
@Timeout(value = 120, unit = SECONDS)
class GatewayDocsBrowserTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    @RegisterExtension
    static final Stack STACK = new Stack();
    private static HubServer hub;
    private static GatewayServer gateway;
    private static WebDriver browser;

    @BeforeAll
    static void start() {
        hub = STACK.start(HubServer.start(STACK.hubConfig()));
        STACK.start(UserServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        STACK.start(PostServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        STACK.start(CommentServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        gateway = STACK.start(GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        await().atMost(Duration.ofSeconds(15))
                .until(() -> gateway.routedServices().containsAll(Set.of("user", "post", "comment")));
        browser = Chromium.start();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void theDocsListEveryServicesOperationsAndTryItOutCallsTheGatewayWithAToken() throws Exception {
        String phone = "+4474" + System.nanoTime() % 100_000_000;
        String token = registerAndLogin(phone);
        String postId = JsonParser.parseString(send("POST", "/post", "{\"title\":\"Shown in the docs\",\"content\":\"c\"}",
                                                    token).body()).getAsJsonObject().get("id").getAsString();

        browser.get("http://127.0.0.1:" + gateway.port() + "/docs");
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        wait.until(b -> b.findElements(By.cssSelector(".opblock")).size() >= 11);
        List<String> paths = browser.findElements(By.cssSelector(".opblock-summary-path")).stream()
                .map(e -> e.getAttribute("data-path")).toList();
        assertThat(paths).contains("/user/me", "/user/login", "/post/{id}", "/post", "/post/{postId}/comments",
                                   "/user/{author}/comments", "/post/{postId}/comments/{commentId}");
        assertThat(browser.findElements(By.cssSelector(".opblock-tag")).stream().map(WebElement::getText).toList())
                .anyMatch(t -> t.startsWith("user")).anyMatch(t -> t.startsWith("post")).anyMatch(t -> t.startsWith("comment"));

        // Try it out on GET /post/{id}
        WebElement getPost = browser.findElement(By.id("operations-post-PostService_GetPost"));
        getPost.findElement(By.cssSelector(".opblock-summary")).click();
        wait.until(b -> !getPost.findElements(By.cssSelector(".try-out__btn")).isEmpty());
        getPost.findElement(By.cssSelector(".try-out__btn")).click();
        getPost.findElement(By.cssSelector("tr[data-param-name='id'] input")).sendKeys(postId);
        getPost.findElement(By.cssSelector(".execute")).click();
        wait.until(b -> !getPost.findElements(By.cssSelector(".live-responses-table tr.response .response-col_status")).isEmpty());
        assertThat(getPost.findElement(By.cssSelector(".live-responses-table tr.response .response-col_status")).getText())
                .startsWith("200");
        assertThat(getPost.findElement(By.cssSelector(".live-responses-table tr.response .response-col_description")).getText())
                .contains("Shown in the docs");

        // with a bearer token: Authorize, then GET /user/me
        browser.findElement(By.cssSelector(".auth-wrapper .authorize")).click();
        wait.until(b -> !b.findElements(By.cssSelector(".auth-container input")).isEmpty());
        browser.findElement(By.cssSelector(".auth-container input")).sendKeys(token);
        browser.findElement(By.cssSelector(".auth-btn-wrapper .authorize")).click();
        browser.findElement(By.cssSelector(".btn-done")).click();
        WebElement me = browser.findElement(By.id("operations-user-UserService_GetUser"));
        me.findElement(By.cssSelector(".opblock-summary")).click();
        wait.until(b -> !me.findElements(By.cssSelector(".try-out__btn")).isEmpty());
        me.findElement(By.cssSelector(".try-out__btn")).click();
        me.findElement(By.cssSelector(".execute")).click();
        wait.until(b -> !me.findElements(By.cssSelector(".live-responses-table tr.response .response-col_status")).isEmpty());
        assertThat(me.findElement(By.cssSelector(".live-responses-table tr.response .response-col_status")).getText()).startsWith("200");
        assertThat(me.findElement(By.cssSelector(".live-responses-table tr.response .response-col_description")).getText())
                .contains(phone);

        // nothing the page needed was refused by its Content-Security-Policy (Chromium logs each refusal to the
        // console; the probe shows this test reads the console)
        ((JavascriptExecutor) browser).executeScript("console.error('switchboard console probe');");
        List<String> console = browser.manage().logs().get(LogType.BROWSER).getAll().stream().map(LogEntry::getMessage)
                .toList();
        assertThat(console).anyMatch(line -> line.contains("switchboard console probe"))
                .noneMatch(line -> line.contains("Content Security Policy"));

        Path png = Path.of("target", "docs.png");
        ((JavascriptExecutor) browser).executeScript("window.scrollTo(0, 0);");
        Files.write(png, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        assertThat(Files.size(png)).isGreaterThan(10_000);
    }

    @Test
    void theStreamsPageFollowsNewPostsLiveAsText() throws Exception {
        String token = registerAndLogin("+4475" + System.nanoTime() % 100_000_000);

        browser.get("http://127.0.0.1:" + gateway.port() + "/docs/streams");
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        wait.until(b -> !b.findElements(By.cssSelector("#route option[value='/post/watch']")).isEmpty());
        browser.findElement(By.cssSelector("#route option[value='/post/watch']")).click();
        assertThat(browser.findElement(By.id("url")).getAttribute("value")).isEqualTo("/post/watch");
        browser.findElement(By.cssSelector("#follow button[type='submit']")).click();
        wait.until(b -> b.findElement(By.id("state")).getText().startsWith("Following /post/watch"));

        send("POST", "/post", "{\"title\":\"Live in the browser\",\"content\":\"c\"}", token);
        send("POST", "/post", "{\"title\":\"<b id='injected'>bold</b>\",\"content\":\"c\"}", token);
        wait.until(b -> b.findElements(By.cssSelector("#events li.message")).size() >= 2);
        List<String> shown = browser.findElements(By.cssSelector("#events li.message")).stream().map(WebElement::getText)
                .toList();
        // newest first, each with its event id (the cursor)
        assertThat(shown.get(1)).matches("\\[\\d+] message: .*\"title\":\"Live in the browser\".*");
        assertThat(shown.get(0)).contains("\\u003cb id\\u003d\\u0027injected\\u0027\\u003ebold");
        assertThat(browser.findElements(By.id("injected"))).as("event data is shown as text").isEmpty();
        browser.findElement(By.id("stop")).click();
        assertThat(browser.findElement(By.id("state")).getText()).isEqualTo("Stopped.");

        ((JavascriptExecutor) browser).executeScript("console.error('switchboard streams probe');");
        List<String> console = browser.manage().logs().get(LogType.BROWSER).getAll().stream().map(LogEntry::getMessage)
                .toList();
        assertThat(console).anyMatch(line -> line.contains("switchboard streams probe"))
                .noneMatch(line -> line.contains("Content Security Policy"));
    }

    @Test
    void thePageIsServedWithAStrictPolicyAndCanBeSwitchedOff() throws Exception {
        HttpResponse<String> page = send("GET", "/docs", null, null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(policy -> assertThat(policy)
                .contains("default-src 'none'", "script-src 'self'", "connect-src 'self'")
                .doesNotContain("unsafe-inline", "unsafe-eval", "http"));
        assertThat(page.body()).contains("/docs/swagger-ui-bundle.js").doesNotContain("<script>");
        assertThat(send("GET", "/docs/swagger-ui-bundle.js", null, null).body()).contains("SwaggerUIBundle");
        // dot segments are resolved before routing: this is /openapi.json, nothing of the jar's
        HttpResponse<String> dots = send("GET", "/docs/../openapi.json", null, null);
        assertThat(dots.statusCode()).isEqualTo(200);
        assertThat(dots.body()).startsWith("{\"openapi\":\"3.1.0\"");
        assertThat(send("GET", "/docs/..%2F..%2FMETA-INF%2FMANIFEST.MF", null, null).statusCode()).isEqualTo(404);
        // Swagger UI's files are tagged with its version: unchanged, 304
        HttpResponse<String> bundle = send("GET", "/docs/swagger-ui-bundle.js", null, null);
        String etag = bundle.headers().firstValue("ETag").orElseThrow();
        assertThat(etag).startsWith("\"swagger-ui-5.");
        HttpResponse<String> again = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                                                                                 + "/docs/swagger-ui-bundle.js"))
                                                       .header("If-None-Match", etag).build(),
                                               HttpResponse.BodyHandlers.ofString());
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        assertThat(send("GET", "/docs/nothing-here", null, null).statusCode()).isEqualTo(404);

        try (GatewayServer off = GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of("gateway.docs.enabled", "false")))) {
            await().atMost(Duration.ofSeconds(15)).until(() -> off.routedServices().contains("post"));
            assertThat(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + off.port() + "/docs")).build(),
                                 HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
            assertThat(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + off.port() + "/openapi.json"))
                                         .build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        }
    }

    /* a new user's token */
    private static String registerAndLogin(String phone) throws IOException, InterruptedException {
        String credentials = "{\"phoneNumber\":\"" + phone + "\",\"userPassword\":\"secret pass\"}";
        assertThat(send("POST", "/user/register", credentials, null).statusCode()).isEqualTo(201);
        return JsonParser.parseString(send("POST", "/user/login", credentials, null).body()).getAsJsonObject()
                .get("token").getAsString();
    }

    private static HttpResponse<String> send(String method, String path, String body, String token)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
