package io.switchboard.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import io.etcd.jetcd.Client;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.DeregisterRequest;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.PublishSchemaRequest;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.identity.LocalCa;
import io.switchboard.testkit.Chromium;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The dashboard in a real browser: headless Chromium driven by Selenium against a hub over a real etcd. Fails,
 * never skips, when Chromium cannot start.
 */
@Timeout(value = 120, unit = SECONDS)
class UiBrowserTest {
    private static final Duration LIVE = Duration.ofSeconds(5);
    // the page polls every 2 s: a few rounds
    private static final Duration POLLED = Duration.ofSeconds(10);

    @RegisterExtension
    static final Stack STACK = new Stack();
    private static HubFixture hub;
    private static WebDriver browser;

    @BeforeAll
    static void start() {
        // with mutual TLS, as users run it: the page over HTTPS, each service registering as itself
        hub = STACK.start(HubFixture.withIdentities(STACK, STACK.etcd().endpoint(), Map.of()));
        browser = STACK.start(chromium(), WebDriver::quit);
    }

    @AfterEach
    void deregisterAll() throws Exception {
        try (Client client = HubFixture.etcdClient(STACK.etcd().endpoint())) {
            hub.clear(client);
        }
    }

    @Test
    void rowsFollowTheRegistryLiveAndRegistrationTextIsShownAsText() {
        open(hub);
        await().atMost(LIVE).until(() -> text(By.id("services")).contains("No services registered."));
        mark();

        String hostile = "<img src=x onerror=alert(1)>";
        long lease = register(HubFixture.instance("orders", "orders-1", 9001).toBuilder().setVersion("<b>1.0</b>")
                                      .putMetadata("note", hostile).build());

        By row = By.cssSelector("tr[data-instance='orders/orders-1']");
        await().atMost(LIVE).ignoreExceptions().until(() -> !browser.findElements(row).isEmpty());
        WebElement metadata = browser.findElement(row).findElement(By.className("c-metadata"));
        assertThat(metadata.getText()).contains("note=" + hostile).contains("team=core");
        assertThat(browser.findElement(row).findElement(By.className("c-version")).getText()).isEqualTo("<b>1.0</b>");
        assertThat(browser.findElement(row).findElement(By.className("c-address")).getText()).isEqualTo("127.0.0.1:9001");
        assertThat(browser.findElements(By.cssSelector("#services img, #services b"))).isEmpty();
        assertThatThrownBy(() -> browser.switchTo().alert()).isInstanceOf(NoAlertPresentException.class);
        await().atMost(LIVE).ignoreExceptions().until(
                () -> browser.findElement(row).findElement(By.className("c-state")).getText().equals("healthy"));
        assertThat(browser.findElement(row).findElement(By.className("c-ttl")).getText()).startsWith("30 s");

        hub.stub("orders").deregister(DeregisterRequest.newBuilder().setLeaseId(lease).build());
        await().atMost(LIVE).ignoreExceptions().until(() -> browser.findElements(row).isEmpty());
        assertThat(marked()).as("the page was never reloaded").isTrue();
    }

    @Test
    void theRoutesViewShowsEveryRouteAConflictAndARefusedSchemaAsAGatewaySettlesThem() {
        register(HubFixture.instance("post", "post-1", 9001), TestSchemas.post());
        open(hub);
        By getPost = By.cssSelector("tr[data-route='GET /post/{id}']");
        await().atMost(LIVE).ignoreExceptions().until(() -> !browser.findElements(getPost).isEmpty());
        assertThat(browser.findElement(getPost).findElement(By.className("c-service")).getText()).isEqualTo("post");
        assertThat(browser.findElement(getPost).findElement(By.className("c-rpc")).getText())
                .isEqualTo("switchboard.post.v1.PostService/GetPost");
        assertThat(browser.findElements(By.cssSelector("#routes tr.route"))).hasSize(5);
        mark();

        // a later service claims post's GET /post/{id} (as /post/{name}) and a route of its own; another has a rule
        // no gateway can serve
        register(HubFixture.instance("rival", "rival-1", 9002), TestSchemas.gets("rival.v1", "/post/{name}", "/rival"));
        register(HubFixture.instance("broken", "broken-1", 9003), TestSchemas.gets("broken.v1", "/broken/{nosuch}"));
        By conflict = By.cssSelector("tr.conflict[data-conflict='rival GET /post/{name}']");
        By refused = By.cssSelector("tr.refused[data-refused='broken']");
        await().atMost(LIVE).ignoreExceptions()
                .until(() -> !browser.findElements(conflict).isEmpty() && !browser.findElements(refused).isEmpty());
        assertThat(browser.findElement(conflict).getText()).contains("conflict: not served, post has GET /post/{id}");
        assertThat(browser.findElement(getPost).findElement(By.className("c-service")).getText()).isEqualTo("post");
        assertThat(browser.findElements(By.cssSelector("tr[data-route='GET /rival']"))).hasSize(1);
        assertThat(browser.findElement(refused).getText())
                .contains("schema of broken refused: ").contains("/broken/{nosuch}");
        assertThat(text(By.id("routes-summary"))).startsWith("6 routes, 1 conflicts, 1 refused schemas");
        assertThat(marked()).as("the page was never reloaded").isTrue();
    }

    @Test
    void filterNarrowsByServiceOrInstanceText() {
        register(HubFixture.instance("orders", "orders-1", 9001));
        register(HubFixture.instance("orders", "orders-2", 9002).toBuilder().putMetadata("canary", "yes").build());
        register(HubFixture.instance("payments", "payments-1", 9101));
        open(hub);
        await().atMost(LIVE).ignoreExceptions().until(() -> shownInstances().size() == 3);
        mark();

        filter("pay");
        await().atMost(LIVE).ignoreExceptions().until(() -> shownInstances().equals(List.of("payments/payments-1")));
        assertThat(browser.findElements(By.cssSelector("section[data-service='orders']"))).isEmpty();

        filter("canary=yes");
        await().atMost(LIVE).ignoreExceptions().until(() -> shownInstances().equals(List.of("orders/orders-2")));

        filter("no-such-thing");
        await().atMost(LIVE).ignoreExceptions().until(() -> text(By.id("services")).contains("Nothing matches"));

        filter("");
        await().atMost(LIVE).ignoreExceptions().until(() -> shownInstances().size() == 3);
        // a filter survives live updates
        filter("orders");
        register(HubFixture.instance("orders", "orders-3", 9003));
        register(HubFixture.instance("search", "search-1", 9201));
        await().atMost(LIVE).ignoreExceptions().until(
                () -> shownInstances().equals(List.of("orders/orders-1", "orders/orders-2", "orders/orders-3")));
        assertThat(marked()).isTrue();
    }

    @Test
    void lostEtcdIsShownPlainlyAndThePageRecoversByItself() {
        try (EtcdServer own = EtcdServer.start(); HubFixture outage = HubFixture.withIdentities(STACK, own.endpoint(), Map.of())) {
            outage.stub("orders").register(RegisterRequest.newBuilder().setInstance(HubFixture.instance("orders", "o-1", 9001))
                                           .setTtlSeconds(60).build());
            open(outage);
            By banner = By.id("banner");
            await().atMost(LIVE).ignoreExceptions().until(
                    () -> !browser.findElements(By.cssSelector("tr[data-instance='orders/o-1']")).isEmpty());
            assertThat(browser.findElement(banner).isDisplayed()).isFalse();
            mark();

            own.kill();
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(
                    () -> browser.findElement(banner).isDisplayed()
                          && browser.findElement(banner).getText().startsWith("etcd unreachable since"));
            assertThat(browser.findElement(banner).getText()).contains("last known state");
            assertThat(text(By.id("connection"))).isEqualTo("etcd unreachable");
            assertThat(browser.findElement(By.cssSelector("tr[data-instance='orders/o-1'] .c-state")).getText())
                    .isEqualTo("unknown");

            own.restart();
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(
                    () -> !browser.findElement(banner).isDisplayed() && text(By.id("connection")).equals("live"));
            assertThat(marked()).isTrue();
        }
    }

    @Test
    void aRefusedLiveStreamFallsBackToPollingThatStillFollowsTheRegistry() {
        // no live stream at all: the page's EventSource gets 503, as when ui.max-streams browsers are already watching
        try (HubFixture refusing = HubFixture.withIdentities(STACK, STACK.etcd().endpoint(),
                                                                   Map.of("ui.max-streams", "0"))) {
            open(refusing);
            await().atMost(LIVE).ignoreExceptions().until(() -> text(By.id("connection")).equals("live (polling)"));
            await().atMost(LIVE).ignoreExceptions().until(() -> text(By.id("services")).contains("No services registered."));
            mark();

            long lease = register(HubFixture.instance("orders", "orders-1", 9001));
            By row = By.cssSelector("tr[data-instance='orders/orders-1']");
            await().atMost(POLLED).ignoreExceptions().until(() -> !browser.findElements(row).isEmpty());
            refusing.stub("orders").deregister(DeregisterRequest.newBuilder().setLeaseId(lease).build());
            await().atMost(POLLED).ignoreExceptions().until(() -> browser.findElements(row).isEmpty());

            assertThat(text(By.id("connection"))).isEqualTo("live (polling)");
            assertThat(browser.findElement(By.id("banner")).isDisplayed()).isFalse();
            assertThat(marked()).as("the page was never reloaded").isTrue();
        }
    }

    @Test
    void screenshotWithAFewServices() throws IOException {
        register(HubFixture.instance("gateway", "gateway-7c9f", 8008).toBuilder().setHost("10.42.0.17").setZone("eu-west-1a")
                         .setVersion("0.1.0").clearMetadata().putMetadata("ingress", "public").build());
        register(HubFixture.instance("post", "post-10.42.1.5-8005", 8005).toBuilder().setHost("10.42.1.5")
                         .setZone("eu-west-1a").setVersion("0.1.0").clearMetadata().putMetadata("db", "postgresql").build());
        register(HubFixture.instance("post", "post-10.42.2.9-8005", 8005).toBuilder().setHost("10.42.2.9")
                         .setZone("eu-west-1b").setVersion("0.1.0").clearMetadata().putMetadata("db", "postgresql").build());
        register(HubFixture.instance("user", "user-10.42.1.6-8006", 8006).toBuilder().setHost("10.42.1.6")
                         .setZone("eu-west-1a").setVersion("0.1.0").setWeight(200).clearMetadata()
                         .putMetadata("jwks", "/user.v1.UserService/GetJwks").build());
        register(HubFixture.instance("user", "user-10.42.2.4-8006", 8006).toBuilder().setHost("10.42.2.4")
                         .setZone("eu-west-1b").setVersion("0.2.0-rc1").setWeight(20).clearMetadata()
                         .putMetadata("canary", "true").putMetadata("jwks", "/user.v1.UserService/GetJwks").build());
        // registered and never renewed: late from 11 s (2/3 of its TTL) until it expires at 15 s, a window long enough
        // for a loaded host to catch
        hub.stub("search").register(RegisterRequest.newBuilder().setTtlSeconds(15).setInstance(
                HubFixture.instance("search", "search-10.42.3.2-8010", 8010).toBuilder().setHost("10.42.3.2")
                        .setZone("eu-west-1c").setVersion("0.1.0").clearMetadata().putMetadata("index", "posts").build())
                .build());
        open(hub);
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(
                () -> browser.findElements(By.cssSelector(".c-state.state-healthy")).size() == 5
                      && browser.findElements(By.cssSelector(".c-state.state-late")).size() == 1);
        assertThat(text(By.id("summary"))).isEqualTo("4 services, 6 instances, 5 healthy");

        Path png = Path.of("target", "dashboard.png");
        Files.write(png, ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
        assertThat(Files.size(png)).isGreaterThan(10_000);
    }

    /* base64 of the SHA-256 of the hub certificate's public key (SubjectPublicKeyInfo), as Chromium pins keys */
    private static String hubKeyPin() {
        try {
            X509Certificate certificate = LocalCa.readCertificate(STACK.localCa().resolve("hub.pem"));
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256")
                                                              .digest(certificate.getPublicKey().getEncoded()));
        } catch (IOException | GeneralSecurityException e) {
            throw new AssertionError("cannot read the hub's certificate", e);
        }
    }

    private static WebDriver chromium() {
        // the hub's certificate is the stack's CA's: trust exactly its key, as an operator who imported that CA
        // would, not any certificate
        return Chromium.start("--ignore-certificate-errors-spki-list=" + hubKeyPin());
    }

    private static void open(HubFixture fixture) {
        browser.get(fixture.url("/ui").toString());
    }

    /** Leaves a mark in the page's window that a reload would wipe. */
    private static void mark() {
        ((JavascriptExecutor) browser).executeScript("window.__notReloaded = true;");
    }

    private static boolean marked() {
        return Boolean.TRUE.equals(((JavascriptExecutor) browser).executeScript("return window.__notReloaded === true;"));
    }

    private static void filter(String text) {
        WebElement filter = browser.findElement(By.id("filter"));
        filter.clear();
        if (text.isEmpty()) {
            // clear() sets the value without an input event
            ((JavascriptExecutor) browser).executeScript("arguments[0].dispatchEvent(new Event('input'));", filter);
        } else {
            filter.sendKeys(text);
        }
    }

    private static List<String> shownInstances() {
        try {
            return browser.findElements(By.cssSelector("tr[data-instance]")).stream()
                    .map(row -> row.getDomAttribute("data-instance")).toList();
        } catch (StaleElementReferenceException e) {
            return List.of();
        }
    }

    private static String text(By by) {
        return browser.findElement(by).getText();
    }

    /* Registers an instance that serves an API: its schema is published first, and the record names it. */
    private static long register(Instance instance, ApiSchema schema) {
        String id = hub.stub(instance.getService())
                .publishSchema(PublishSchemaRequest.newBuilder().setSchema(schema.toByteString()).build()).getSchemaId();
        return register(instance.toBuilder().setSchemaId(id).build());
    }

    private static long register(Instance instance) {
        return hub.stub(instance.getService())
                .register(RegisterRequest.newBuilder().setInstance(instance).setTtlSeconds(30).build())
                .getLeaseId();
    }
}
