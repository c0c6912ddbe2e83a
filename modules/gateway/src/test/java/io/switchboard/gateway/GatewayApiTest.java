package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.switchboard.api.post.v1.DeletePostRequest;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.hub.HubServer;
import io.switchboard.comment.CommentServer;
import io.switchboard.post.PostServer;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.Stack;
import io.switchboard.tokens.Authentication;
import io.switchboard.user.UserServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

@Timeout(value = 90, unit = SECONDS)
class GatewayApiTest {
    private static final AtomicInteger PHONES = new AtomicInteger(5_000_000);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    @RegisterExtension
    static final Stack STACK = new Stack();
    private static HubServer hub;
    private static UserServer user;
    private static PostServer post;
    private static GatewayServer gateway;

    @BeforeAll
    static void start() {
        hub = STACK.start(HubServer.start(STACK.hubConfig()));
        user = STACK.start(UserServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        post = STACK.start(PostServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        STACK.start(CommentServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        // every test calls from 127.0.0.1: the shared gateway's login limit must not get in their way
        gateway = STACK.start(GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of(
                "gateway.login-limit.capacity", "1000", "gateway.login-limit.per-second", "1000"))));
        await().atMost(Duration.ofSeconds(10)).until(() -> management(gateway, "/observe/health/ready").statusCode() == 200);
        // ready means the gateway read the registry; the services may have registered just after
        await().atMost(Duration.ofSeconds(10)).until(() -> gateway.routedServices().containsAll(Set.of("user", "post", "comment")));
    }

    @Test
    void theWholeApiFlow() throws Exception {
        String phone = "+4478" + PHONES.incrementAndGet();
        HttpResponse<String> registered = post("/user/register", "{\"phoneNumber\":\"" + phone
                                                                  + "\",\"userPassword\":\"secret pass\"}", Map.of());
        assertThat(registered.statusCode()).isEqualTo(201);
        String userId = json(registered).get("userId").getAsString();

        HttpResponse<String> login = post("/user/login", "{\"phoneNumber\":\"" + phone
                                                         + "\",\"userPassword\":\"secret pass\"}", Map.of());
        assertThat(login.statusCode()).isEqualTo(200);
        JsonObject session = json(login);
        assertThat(session.get("userId").getAsString()).isEqualTo(userId);
        assertThat(Instant.parse(session.get("expiresAt").getAsString())).isAfter(Instant.now());
        Map<String, String> bearer = Map.of("Authorization", "Bearer " + session.get("token").getAsString());

        HttpResponse<String> me = get("/user/me", bearer);
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(json(me).get("phoneNumber").getAsString()).isEqualTo(phone);

        String[] ids = new String[3];
        List<JsonObject> posts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> created = post("/post", "{\"title\":\"t" + i + "\",\"content\":\"c\"}", bearer);
            assertThat(created.statusCode()).isEqualTo(201);
            assertThat(json(created).get("author").getAsString()).isEqualTo(userId);
            ids[i] = json(created).get("id").getAsString();
            posts.add(json(created));
        }
        // the promised order: newest first, and posts of the same millisecond by id, descending
        posts.sort(Comparator.comparing((JsonObject p) -> Instant.parse(p.get("createdAt").getAsString()))
                           .thenComparing(p -> p.get("id").getAsString()).reversed());
        HttpResponse<String> one = get("/post/" + ids[0], Map.of());
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(json(one).get("title").getAsString()).isEqualTo("t0");

        HttpResponse<String> page = get("/post?author=" + userId + "&pageSize=2", Map.of());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(json(page).getAsJsonArray("posts")).hasSize(2);
        String next = json(page).get("nextPageToken").getAsString();
        HttpResponse<String> last = get("/post?author=" + userId + "&pageSize=2&pageToken=" + next, Map.of());
        assertThat(json(last).getAsJsonArray("posts")).hasSize(1);
        assertThat(json(last).get("nextPageToken").getAsString()).isEmpty();
        List<String> listed = new ArrayList<>();
        json(page).getAsJsonArray("posts").forEach(p -> listed.add(p.getAsJsonObject().get("id").getAsString()));
        json(last).getAsJsonArray("posts").forEach(p -> listed.add(p.getAsJsonObject().get("id").getAsString()));
        assertThat(listed).containsExactlyElementsOf(posts.stream().map(p -> p.get("id").getAsString()).toList());

        HttpResponse<String> deleted = send("DELETE", "/post/" + ids[1], null, bearer);
        assertThat(deleted.statusCode()).isEqualTo(204);
        assertThat(deleted.body()).isEmpty();
        HttpResponse<String> gone = get("/post/" + ids[1], Map.of());
        assertError(gone, 404, "NOT_FOUND");
    }

    @Test
    void commentsJoinTheApiWithNoGatewayChange() throws Exception {
        Map<String, String> alice = login("+4472" + PHONES.incrementAndGet());
        Map<String, String> bob = login("+4472" + PHONES.incrementAndGet());
        String bobId = json(get("/user/me", bob)).get("userId").getAsString();
        String postId = json(post("/post", "{\"title\":\"t\",\"content\":\"c\"}", alice)).get("id").getAsString();

        // body: "comment": the JSON body is the comment; the post comes from the path, the author from the token
        HttpResponse<String> first = post("/post/" + postId + "/comments",
                                          "{\"text\":\"first\",\"postId\":\"elsewhere\",\"author\":\"someone\"}", bob);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
        assertThat(json(first).get("postId").getAsString()).isEqualTo(postId);
        assertThat(json(first).get("author").getAsString()).isEqualTo(bobId);
        assertThat(json(first).get("text").getAsString()).isEqualTo("first");
        String second = json(post("/post/" + postId + "/comments", "{\"text\":\"second\"}", bob)).get("id").getAsString();

        // paging by post, oldest first
        HttpResponse<String> page = get("/post/" + postId + "/comments?pageSize=1", Map.of());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(json(page).getAsJsonArray("comments")).singleElement()
                .satisfies(c -> assertThat(c.getAsJsonObject().get("text").getAsString()).isEqualTo("first"));
        HttpResponse<String> rest = get("/post/" + postId + "/comments?pageSize=1&pageToken="
                                        + json(page).get("nextPageToken").getAsString(), Map.of());
        assertThat(json(rest).getAsJsonArray("comments")).singleElement()
                .satisfies(c -> assertThat(c.getAsJsonObject().get("id").getAsString()).isEqualTo(second));
        // the additional binding: the same method by author
        HttpResponse<String> byAuthor = get("/user/" + bobId + "/comments", Map.of());
        assertThat(byAuthor.statusCode()).isEqualTo(200);
        assertThat(json(byAuthor).getAsJsonArray("comments")).hasSize(2);

        assertError(post("/post/" + UUID.randomUUID() + "/comments", "{\"text\":\"x\"}", bob), 404, "NOT_FOUND");
        assertError(post("/post/" + postId + "/comments", "{\"text\":\"\"}", bob), 400, "INVALID_ARGUMENT");
        assertError(post("/post/" + postId + "/comments", "{\"text\":\"" + "x".repeat(2_001) + "\"}", bob), 400,
                    "INVALID_ARGUMENT");
        assertError(post("/post/" + postId + "/comments", "{\"text\":\"x\"}", Map.of()), 401, "UNAUTHENTICATED");
        assertError(get("/post/" + postId + "/comments?author=" + bobId, Map.of()), 400, "INVALID_ARGUMENT");
        assertError(get("/post/" + postId + "/comments?pageSize=101", Map.of()), 400, "INVALID_ARGUMENT");

        String path = "/post/" + postId + "/comments/" + second;
        assertError(send("DELETE", path, null, alice), 403, "PERMISSION_DENIED");
        HttpResponse<String> deleted = send("DELETE", path, null, bob);
        assertThat(deleted.statusCode()).isEqualTo(204);
        assertThat(deleted.body()).isEmpty();
        assertError(send("DELETE", path, null, bob), 404, "NOT_FOUND");
        assertThat(json(get("/post/" + postId + "/comments", Map.of())).getAsJsonArray("comments")).hasSize(1);
    }

    @Test
    void everyErrorStatusAsJson() throws Exception {
        String phone = "+4479" + PHONES.incrementAndGet();
        String credentials = "{\"phoneNumber\":\"" + phone + "\",\"userPassword\":\"secret pass\"}";
        assertThat(post("/user/register", credentials, Map.of()).statusCode()).isEqualTo(201);
        assertError(post("/user/register", credentials, Map.of()), 409, "ALREADY_EXISTS");
        assertError(post("/user/register", "{\"phoneNumber\":\"x\",\"userPassword\":\"secret pass\"}", Map.of()),
                    400, "INVALID_ARGUMENT");
        assertError(post("/user/register", "{not json", Map.of()), 400, "INVALID_ARGUMENT");
        assertError(post("/user/register", "", Map.of()), 400, "INVALID_ARGUMENT");
        assertError(send("POST", "/user/register", credentials, Map.of("Content-Type", "text/plain")), 415,
                    "INVALID_ARGUMENT");
        assertError(post("/user/register", "{\"phoneNumber\":\"" + "1".repeat(1024 * 1024 + 10) + "\"}", Map.of()),
                    413, "INVALID_ARGUMENT");
        HttpResponse<String> wrongPassword = post("/user/login", "{\"phoneNumber\":\"" + phone
                                                                 + "\",\"userPassword\":\"wrong pass\"}", Map.of());
        assertError(wrongPassword, 401, "UNAUTHENTICATED");
        // the user service's refusal, not the gateway's own: no bearer challenge (README's error table)
        assertThat(wrongPassword.headers().firstValue("WWW-Authenticate")).isEmpty();
        assertError(get("/no/such/route", Map.of()), 404, "NOT_FOUND");
        HttpResponse<String> wrongMethod = send("PUT", "/post/abc", "{}", Map.of());
        assertError(wrongMethod, 405, "INVALID_ARGUMENT");
        assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("DELETE, GET");

        HttpResponse<String> anonymous = get("/user/me", Map.of());
        assertError(anonymous, 401, "UNAUTHENTICATED");
        assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertError(get("/user/me", Map.of("Authorization", "Bearer not.a.token")), 401, "UNAUTHENTICATED");
        assertError(get("/user/me", Map.of("Authorization", "Basic dXNlcjpwYXNz")), 401, "UNAUTHENTICATED");

        assertError(get("/post?pageSize=abc", Map.of()), 400, "INVALID_ARGUMENT");
        assertError(get("/post?pageSize=1000", Map.of()), 400, "INVALID_ARGUMENT");
        assertError(get("/post/..%2F..%2Fetc", Map.of()), 400, "INVALID_ARGUMENT");

        // someone else's post
        String token = json(post("/user/login", credentials, Map.of())).get("token").getAsString();
        String other = "+4470" + PHONES.incrementAndGet();
        String otherCredentials = "{\"phoneNumber\":\"" + other + "\",\"userPassword\":\"secret pass\"}";
        post("/user/register", otherCredentials, Map.of());
        String otherToken = json(post("/user/login", otherCredentials, Map.of())).get("token").getAsString();
        String id = json(post("/post", "{\"title\":\"mine\",\"content\":\"c\"}", Map.of("Authorization", "Bearer " + token)))
                .get("id").getAsString();
        assertError(send("DELETE", "/post/" + id, null, Map.of("Authorization", "Bearer " + otherToken)), 403,
                    "PERMISSION_DENIED");
    }

    @Test
    void forgedTokensGet401OnEveryProtectedRouteAndARealOneGetsThrough() throws Exception {
        String credentials = "{\"phoneNumber\":\"+4477" + PHONES.incrementAndGet() + "\",\"userPassword\":\"secret pass\"}";
        assertThat(post("/user/register", credentials, Map.of()).statusCode()).isEqualTo(201);
        Map<String, String> real = Map.of("Authorization", "Bearer " + json(post("/user/login", credentials, Map.of()))
                .get("token").getAsString());
        String target = json(post("/post", "{\"title\":\"target\",\"content\":\"c\"}", real)).get("id").getAsString();

        for (Map.Entry<String, String> forged : HostileRequests.forgedTokens().entrySet()) {
            Map<String, String> bearer = Map.of("Authorization", "Bearer " + forged.getValue());
            for (HttpResponse<String> refused : List.of(post("/post", "{\"title\":\"forged\",\"content\":\"c\"}", bearer),
                                                        get("/user/me", bearer),
                                                        send("DELETE", "/post/" + target, null, bearer),
                                                        post("/post/" + target + "/comments", "{\"text\":\"x\"}", bearer),
                                                        send("DELETE", "/post/" + target + "/comments/c1", null, bearer))) {
                assertThat(refused.statusCode()).as("%s %s with %s: %s", refused.request().method(),
                                                     refused.request().uri().getPath(), forged.getKey(), refused.body())
                        .isEqualTo(401);
                assertError(refused, 401, "UNAUTHENTICATED");
                assertThat(refused.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
            }
        }
        // the same requests with a real token succeed: the 401s above were the tokens
        assertThat(get("/post/" + target, Map.of()).statusCode()).as("the forged DELETEs left the post").isEqualTo(200);
        assertThat(json(get("/post/" + target + "/comments", Map.of())).getAsJsonArray("comments"))
                .as("the forged comments were not made").isEmpty();
        assertThat(get("/user/me", real).statusCode()).isEqualTo(200);
        assertThat(post("/post", "{\"title\":\"real\",\"content\":\"c\"}", real).statusCode()).isEqualTo(201);
        assertThat(send("DELETE", "/post/" + target, null, real).statusCode()).isEqualTo(204);
    }

    @Test
    void requestIdsAreKeptOrMadeAndReturned() throws Exception {
        List<String> access = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                access.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger.getLogger("io.switchboard.gateway.access").addHandler(capture);
        HttpResponse<String> kept;
        try {
            kept = get("/post/missing-id", Map.of("X-Request-Id", "client-chosen-42"));
            // written once the answer has gone out (so a line of an earlier test's request may come in too)
            await().atMost(Duration.ofSeconds(2))
                    .until(() -> access.stream().anyMatch(line -> line.contains("client-chosen-42")));
        } finally {
            Logger.getLogger("io.switchboard.gateway.access").removeHandler(capture);
        }
        // one line: method, path, status, duration, request id, the instance that answered, the gRPC code
        assertThat(access).filteredOn(line -> line.contains("client-chosen-42")).singleElement().asString()
                .matches("GET /post/missing-id 404 \\d+ms client-chosen-42 upstream=post@127\\.0\\.0\\.1:"
                         + post.runtime().port() + " grpc=NOT_FOUND");
        assertThat(kept.headers().firstValue("X-Request-Id")).hasValue("client-chosen-42");
        assertThat(json(kept).getAsJsonObject("error").get("requestId").getAsString()).isEqualTo("client-chosen-42");
        HttpResponse<String> made = get("/post/missing-id", Map.of());
        assertThat(made.headers().firstValue("X-Request-Id")).hasValueSatisfying(v -> assertThat(v).hasSize(36));
        HttpResponse<String> hostile = get("/post/missing-id", Map.of("X-Request-Id", "x".repeat(500)));
        assertThat(hostile.headers().firstValue("X-Request-Id")).hasValueSatisfying(v -> assertThat(v).hasSize(36));
    }

    @Test
    void servesHttp2() throws Exception {
        HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        // cleartext HTTP/2 by upgrade from HTTP/1.1 (h2c), then on the same connection
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> page = h2.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                                                                                  + "/post?pageSize=1")).build(),
                                                HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(json(page).has("posts")).isTrue();
        }
        HttpResponse<String> missing = h2.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                                                                                  + "/post/none")).build(),
                                               HttpResponse.BodyHandlers.ofString());
        assertThat(missing.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertError(missing, 404, "NOT_FOUND");
    }

    @Test
    void loginIsRateLimitedPerClientAddress() throws Exception {
        try (GatewayServer limited = readyGateway(Map.of(
                "gateway.login-limit.capacity", "3", "gateway.login-limit.per-second", "0.1"))) {
            String body = "{\"phoneNumber\":\"+4471000000\",\"userPassword\":\"whatever1\"}";
            Map<String, String> json = Map.of("Content-Type", "application/json");
            for (int i = 0; i < 3; i++) {
                assertThat(send(limited, "POST", "/user/login", body, json).statusCode()).isEqualTo(401);
            }
            HttpResponse<String> refused = send(limited, "POST", "/user/login", body, json);
            assertError(refused, 429, "RESOURCE_EXHAUSTED");
            assertThat(Integer.parseInt(refused.headers().firstValue("Retry-After").orElseThrow())).isBetween(1, 10);
            // other routes are not limited
            assertThat(send(limited, "GET", "/post?pageSize=1", null, Map.of()).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void behindTrustedProxiesTheForwardedClientIsLimitedAndAnUntrustedPeerCannotPickItsAddress() throws Exception {
        // a new number each time: the user service's own backoff after five failures of a number stays out of it
        Supplier<String> body = () -> "{\"phoneNumber\":\"+4473" + PHONES.incrementAndGet()
                                      + "\",\"userPassword\":\"whatever1\"}";
        Map<String, String> json = Map.of("Content-Type", "application/json");
        // no trusted proxy: the forwarded addresses are the client's own words, every login counts for 127.0.0.1
        try (GatewayServer direct = readyGateway(Map.of(
                "gateway.login-limit.capacity", "2", "gateway.login-limit.per-second", "0.01"))) {
            assertThat(send(direct, "POST", "/user/login", body.get(), forwardedFor("198.51.100.1")).statusCode()).isEqualTo(401);
            assertThat(send(direct, "POST", "/user/login", body.get(), forwardedFor("198.51.100.2")).statusCode()).isEqualTo(401);
            assertError(send(direct, "POST", "/user/login", body.get(), forwardedFor("198.51.100.3")), 429, "RESOURCE_EXHAUSTED");
        }
        // loopback is the trusted proxy here: each forwarded client has its own budget
        try (GatewayServer proxied = readyGateway(Map.of(
                "gateway.login-limit.capacity", "2", "gateway.login-limit.per-second", "0.01",
                "gateway.trusted-proxies", "127.0.0.0/8, ::1"))) {
            for (int i = 0; i < 2; i++) {
                assertThat(send(proxied, "POST", "/user/login", body.get(), forwardedFor("198.51.100.1")).statusCode())
                        .isEqualTo(401);
            }
            assertError(send(proxied, "POST", "/user/login", body.get(), forwardedFor("198.51.100.1")), 429,
                        "RESOURCE_EXHAUSTED");
            // the same client, whatever it puts in front of the address its proxy added
            assertError(send(proxied, "POST", "/user/login", body.get(), forwardedFor("203.0.113.77, 198.51.100.1")), 429,
                        "RESOURCE_EXHAUSTED");
            // another client behind the same proxy still logs in
            assertThat(send(proxied, "POST", "/user/login", body.get(), forwardedFor("198.51.100.2")).statusCode()).isEqualTo(401);
            // a Forwarded header (not the one these proxies keep) is the client's own: it counts for the proxy itself,
            // as a request with no header does, with a budget of its own
            Map<String, String> rfc7239 = new HashMap<>(json);
            rfc7239.put("Forwarded", "for=198.51.100.3;proto=http");
            assertThat(send(proxied, "POST", "/user/login", body.get(), rfc7239).statusCode()).isEqualTo(401);
            assertThat(send(proxied, "POST", "/user/login", body.get(), json).statusCode()).isEqualTo(401);
            assertError(send(proxied, "POST", "/user/login", body.get(), rfc7239), 429, "RESOURCE_EXHAUSTED");
        }
    }

    @Test
    void aThirdPartyCannotLockTheOwnerOutOfTheirAccount() throws Exception {
        String phone = "+4474" + PHONES.incrementAndGet();
        String right = "{\"phoneNumber\":\"" + phone + "\",\"userPassword\":\"owner pass 1\"}";
        String wrong = "{\"phoneNumber\":\"" + phone + "\",\"userPassword\":\"guess pass 1\"}";
        assertThat(post("/user/register", right, Map.of()).statusCode()).isEqualTo(201);
        try (GatewayServer proxied = readyGateway(Map.of(
                "gateway.login-limit.capacity", "1000", "gateway.login-limit.per-second", "1000",
                "gateway.trusted-proxies", "127.0.0.0/8"))) {
            // one address guessing: after five failures it waits (the user service's backoff, through the gateway)
            for (int i = 0; i < 5; i++) {
                assertError(send(proxied, "POST", "/user/login", wrong, forwardedFor("198.51.100.66")), 401,
                            "UNAUTHENTICATED");
            }
            HttpResponse<String> waits = send(proxied, "POST", "/user/login", wrong, forwardedFor("198.51.100.66"));
            assertError(waits, 429, "RESOURCE_EXHAUSTED");
            assertThat(waits.headers().firstValue("Retry-After")).hasValue("1");
            // the owner, elsewhere, is not held up
            assertThat(send(proxied, "POST", "/user/login", right, forwardedFor("203.0.113.10")).statusCode())
                    .isEqualTo(200);
            // guessing from many addresses: after 20 failures in all, the number takes one try per 2 s
            for (int i = 0; i < 15; i++) {
                assertError(send(proxied, "POST", "/user/login", wrong, forwardedFor("198.51.101." + i)), 401,
                            "UNAUTHENTICATED");
            }
            assertThat(send(proxied, "POST", "/user/login", right, forwardedFor("203.0.113.11")).statusCode())
                    .isEqualTo(200);
            HttpResponse<String> slowed = send(proxied, "POST", "/user/login", wrong, forwardedFor("198.51.101.99"));
            assertError(slowed, 429, "RESOURCE_EXHAUSTED");
            // the owner still gets in: at worst after one such wait
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(500)).until(
                    () -> send(proxied, "POST", "/user/login", right, forwardedFor("203.0.113.12")).statusCode() == 200);
        }
    }

    @Test
    void aLoggedOutTokenIsRefusedByTheGatewayAndEveryBackendWhileTheUsersOtherTokensStillWork() throws Exception {
        String phone = "+4473" + PHONES.incrementAndGet();
        Map<String, String> first = login(phone);
        String credentials = "{\"phoneNumber\":\"" + phone + "\",\"userPassword\":\"secret pass\"}";
        Map<String, String> second = Map.of("Authorization", "Bearer " + json(post("/user/login", credentials, Map.of()))
                .get("token").getAsString());
        String postId = json(post("/post", "{\"title\":\"t\",\"content\":\"c\"}", first)).get("id").getAsString();

        // a POST with no body, as a client logs out
        HttpResponse<String> out = send("POST", "/user/logout", null, first);
        assertThat(out.statusCode()).as(out.body()).isEqualTo(200);
        assertThat(json(out).size()).isZero();
        // user refuses the token at once, whichever verifier sees it first
        HttpResponse<String> me = get("/user/me", first);
        assertError(me, 401, "UNAUTHENTICATED");
        assertThat(json(me).getAsJsonObject("error").get("message").getAsString()).isEqualTo("token revoked");
        // within a revocation poll the gateway refuses it itself: its own 401 names the scheme (a backend's does not)
        long loggedOut = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> {
            HttpResponse<String> refused = get("/user/me", first);
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(401);
            return refused.headers().firstValue("WWW-Authenticate").isPresent();
        });
        assertThat(Duration.ofNanos(System.nanoTime() - loggedOut)).as("one poll, and a call").isLessThan(Duration.ofSeconds(2));
        // and a backend called straight, past the gateway, refuses it too (it polls as often)
        Metadata bearer = new Metadata();
        bearer.put(Authentication.AUTHORIZATION, first.get("Authorization"));
        PostServiceGrpc.PostServiceBlockingStub direct = PostServiceGrpc
                .newBlockingStub(STACK.channel("gateway", "post", post.runtime().port())).withDeadlineAfter(5, SECONDS)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(bearer));
        GetPostRequest read = GetPostRequest.newBuilder().setId(postId).build();
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                .until(() -> Status.fromThrowable(catchThrowable(() -> direct.getPost(read))).getDescription(),
                       "token revoked"::equals);
        assertThat(Status.fromThrowable(catchThrowable(() -> direct.deletePost(
                DeletePostRequest.newBuilder().setId(postId).build()))).getDescription())
                .isEqualTo("token revoked");
        assertThat(get("/post/" + postId, Map.of()).statusCode()).as("the post was not deleted").isEqualTo(200);

        // the same user's other token still works; logging out twice, or with no token, is refused
        assertThat(get("/user/me", second).statusCode()).isEqualTo(200);
        assertError(send("POST", "/user/logout", null, first), 401, "UNAUTHENTICATED");
        assertError(send("POST", "/user/logout", null, Map.of()), 401, "UNAUTHENTICATED");
        assertThat(send("POST", "/user/logout", null, second).statusCode()).isEqualTo(200);
    }

    @Test
    void aTokenTheGatewayCannotCheckYetGets503ToTryAgainAndTheKeysAreFetchedAsSoonAsUserAnswers() throws Exception {
        String token = login("+4474" + PHONES.incrementAndGet()).get("Authorization");
        // a world of its own: a hub on another etcd, with post and no user yet
        try (EtcdServer etcd = EtcdServer.start();
             HubServer lonelyHub = HubServer.start(STACK.config(Map.of("etcd.endpoints", etcd.endpoint())));
             PostServer lonelyPost = PostServer.start(STACK.serviceConfig(lonelyHub.port(), Map.of()));
             GatewayServer lonely = GatewayServer.start(STACK.serviceConfig(lonelyHub.port(), Map.of()))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> lonely.routedServices().contains("post"));
            HttpResponse<String> refused = send(lonely, "POST", "/post", "{\"title\":\"t\",\"content\":\"c\"}",
                                                Map.of("Authorization", token, "Content-Type", "application/json"));
            assertError(refused, 503, "UNAVAILABLE");
            assertThat(json(refused).getAsJsonObject("error").get("message").getAsString())
                    .isEqualTo("token keys unavailable");
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            assertThat(refused.headers().firstValue("WWW-Authenticate")).as("not a bad token").isEmpty();

            // user joins: the gateway and post fetch its keys and revocations before any token asks for them
            try (UserServer lonelyUser = UserServer.start(STACK.serviceConfig(lonelyHub.port(), Map.of()))) {
                String jwks = "switchboard_rpc_server_calls_total{method=\"switchboard.user.v1.UserService/GetJwks\"";
                String revocations = "switchboard_rpc_server_calls_total{method=\"switchboard.user.v1.UserService/"
                                     + "ListRevokedTokens\"";
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> {
                    String metrics = STACK.http().send(HttpRequest.newBuilder(URI.create(
                            "https://127.0.0.1:" + lonelyUser.runtime().managementPort() + "/observe/metrics")).build(),
                                                       HttpResponse.BodyHandlers.ofString()).body();
                    // one fetch each by the gateway and post, with no token sent
                    return calls(metrics, jwks) >= 2 && calls(metrics, revocations) >= 2;
                });
            }
        }
    }

    /* The answered calls a component's metrics count, of the series that start so. */
    private static double calls(String metrics, String series) {
        return metrics.lines().filter(line -> line.startsWith(series) && line.contains("status=\"OK\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    /* A gateway of the test's own with these settings, once it is ready. */
    private static GatewayServer readyGateway(Map<String, String> settings) {
        GatewayServer started = GatewayServer.start(STACK.serviceConfig(hub.port(), settings));
        await().atMost(Duration.ofSeconds(10)).until(() -> management(started, "/observe/health/ready").statusCode() == 200);
        return started;
    }

    private static Map<String, String> forwardedFor(String addresses) {
        return Map.of("Content-Type", "application/json", "X-Forwarded-For", addresses);
    }

    @Test
    void registrationsAreRateLimitedPerClientAddressWithinTheLoginsBudget() throws Exception {
        try (GatewayServer limited = readyGateway(Map.of(
                "gateway.login-limit.capacity", "3", "gateway.login-limit.per-second", "0.1"))) {
            Map<String, String> json = Map.of("Content-Type", "application/json");
            for (int i = 0; i < 3; i++) {
                String phone = "+4472" + PHONES.incrementAndGet();
                assertThat(send(limited, "POST", "/user/register", "{\"phoneNumber\":\"" + phone
                                                                  + "\",\"userPassword\":\"whatever1\"}", json)
                                   .statusCode()).isEqualTo(201);
            }
            HttpResponse<String> refused = send(limited, "POST", "/user/register", "{\"phoneNumber\":\"+4472"
                                                                                  + PHONES.incrementAndGet()
                                                                                  + "\",\"userPassword\":\"whatever1\"}",
                                                json);
            assertError(refused, 429, "RESOURCE_EXHAUSTED");
            assertThat(Integer.parseInt(refused.headers().firstValue("Retry-After").orElseThrow())).isBetween(1, 10);
            // the same budget: a login from that address waits too
            assertError(send(limited, "POST", "/user/login", "{\"phoneNumber\":\"+4471000000\",\"userPassword\":\"x1234567\"}",
                             json), 429, "RESOURCE_EXHAUSTED");
        }
    }

    @Test
    void aRefusedLoginIsToldToRetryWhenItsWaitEndsNotAFixedMinute() throws Exception {
        String phone = "+4471" + PHONES.incrementAndGet();
        String wrong = "{\"phoneNumber\":\"" + phone + "\",\"userPassword\":\"wrong pass\"}";
        // user's default: after 5 failures from one address, that address waits 1 s, then twice as long each time
        for (int i = 0; i < 5; i++) {
            assertThat(post("/user/login", wrong, Map.of()).statusCode()).isEqualTo(401);
        }
        HttpResponse<String> refused = post("/user/login", wrong, Map.of());
        assertError(refused, 429, "RESOURCE_EXHAUSTED");
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
        // the user service's google.rpc.Status details reach the client as error.details
        JsonObject detail = json(refused).getAsJsonObject("error").getAsJsonArray("details").get(0).getAsJsonObject();
        assertThat(detail.get("@type").getAsString()).isEqualTo("type.googleapis.com/google.rpc.RetryInfo");
        assertThat(detail.get("retryDelay").getAsString()).isEqualTo("1s");
        // after the wait, one more failure doubles it
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(250))
                .until(() -> post("/user/login", wrong, Map.of()).statusCode() == 401);
        assertThat(post("/user/login", wrong, Map.of()).headers().firstValue("Retry-After")).hasValue("2");
    }

    @Test
    void hostileInputGetsA4xxAndTheGatewayStaysUp() throws Exception {
        HostileRequests requests = new HostileRequests(42, gateway.port());
        Map<Integer, Integer> statuses = new TreeMap<>();
        int onProtected = 0;
        for (int i = 0; i < 3_000; i++) {
            HostileRequests.Request generated = requests.next();
            byte[] request = generated.bytes();
            HostileRequests.Answer answer = HostileRequests.send(gateway.port(), request);
            String what = new String(request, 0, Math.min(request.length, 300), StandardCharsets.ISO_8859_1);
            String firstLine = new String(request, StandardCharsets.ISO_8859_1).lines().findFirst().orElse("");
            if ((!firstLine.endsWith(" HTTP/1.1") || firstLine.length() > 4096) && answer.status() == -1) {
                // not HTTP/1.1, or a request line over Helidon's 4 KiB prologue limit with no end in the first bytes
                // read: Helidon finds no protocol for the connection and closes it without a word
                assertThat(answer.text()).as("answer to %s", what).isEmpty();
                statuses.merge(-1, 1, Integer::sum);
                continue;
            }
            if (generated.onProtected()) {
                // every token generated is forged or malformed
                assertThat(answer.status()).as("answer to %s", what).isEqualTo(401);
                onProtected++;
            }
            // a generated request may happen to be valid (GET /post ignores unknown parameters); none may break anything
            assertThat(answer.status()).as("answer to %s", what).isBetween(200, 499);
            // and none has a valid token, so nothing is created, deleted or shown as someone's account
            assertThat(answer.status()).as("answer to %s", what).isNotIn(201, 204);
            if (answer.status() < 300) {
                assertThat(firstLine).as("answer %d to %s", answer.status(), what).doesNotContain("/user/me");
            }
            assertThat(answer.text()).as("answer to %s", what).doesNotContain("Exception").doesNotContain("at io.");
            if (answer.status() >= 400 && answer.text().contains("application/json")) {
                assertThat(answer.body()).as("answer to %s", what).startsWith("{\"error\":");
            }
            statuses.merge(answer.status(), 1, Integer::sum);
        }
        System.out.println("hostile requests by answer status (-1: connection closed): " + statuses);
        assertThat(onProtected).as("well-formed requests with forged tokens on protected routes").isGreaterThan(300);
        int ok = statuses.entrySet().stream().filter(e -> e.getKey() >= 200 && e.getKey() < 400).mapToInt(Map.Entry::getValue).sum();
        assertThat(ok).as("statuses %s", statuses).isLessThan(300);
        assertThat(statuses.keySet()).as("statuses %s", statuses).contains(400, 401, 404, 405, 413, 415);

        assertThat(management(gateway, "/observe/health/live").statusCode()).isEqualTo(200);
        assertThat(get("/post?pageSize=1", Map.of()).statusCode()).isEqualTo(200);
        // the public port serves the API only: health and metrics are on the management port
        assertError(get("/observe/metrics", Map.of()), 404, "NOT_FOUND");
        assertError(get("/observe/health", Map.of()), 404, "NOT_FOUND");
        String metrics = management(gateway, "/observe/metrics").body();
        assertThat(metrics).contains("switchboard_gateway_requests_total", "switchboard_gateway_request_duration_seconds",
                                     "switchboard_gateway_upstream_calls_total", "switchboard_gateway_instances");
        assertThat(metrics).doesNotContain("status=\"500\"");
    }

    private static void assertError(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).contains("json"));
        JsonObject error = json(response).getAsJsonObject("error");
        assertThat(error.get("code").getAsString()).isEqualTo(code);
        assertThat(error.get("message").getAsString()).isNotBlank();
        assertThat(error.get("requestId").getAsString()).isEqualTo(response.headers().firstValue("X-Request-Id").orElseThrow());
    }

    /* a new user's bearer header */
    private static Map<String, String> login(String phone) throws Exception {
        String credentials = "{\"phoneNumber\":\"" + phone + "\",\"userPassword\":\"secret pass\"}";
        assertThat(post("/user/register", credentials, Map.of()).statusCode()).isEqualTo(201);
        return Map.of("Authorization", "Bearer " + json(post("/user/login", credentials, Map.of())).get("token").getAsString());
    }

    private static JsonObject json(HttpResponse<String> response) {
        return JsonParser.parseString(response.body()).getAsJsonObject();
    }

    /* A path on a gateway's management port (TLS with the gateway's identity, from the stack's CA). */
    private static HttpResponse<String> management(GatewayServer target, String path) throws Exception {
        return STACK.http().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + target.managementPort() + path))
                                         .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(String path, Map<String, String> headers) throws Exception {
        return send("GET", path, null, headers);
    }

    private static HttpResponse<String> post(String path, String body, Map<String, String> headers) throws Exception {
        Map<String, String> withType = new HashMap<>(headers);
        withType.putIfAbsent("Content-Type", "application/json");
        return send("POST", path, body, withType);
    }

    private static HttpResponse<String> send(String method, String path, String body, Map<String, String> headers)
            throws Exception {
        return send(gateway, method, path, body, headers);
    }

    private static HttpResponse<String> send(GatewayServer target, String method, String path, String body,
                                             Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target.port() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
