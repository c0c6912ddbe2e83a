package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import io.switchboard.comment.CommentServer;
import io.switchboard.hub.HubServer;
import io.switchboard.post.PostServer;
import io.switchboard.testkit.Stack;
import io.switchboard.user.UserServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /openapi.json}: the OpenAPI document of the live routes, read with swagger-parser, and held to what the
 * gateway really answers.
 */
@Timeout(value = 90, unit = SECONDS)
class GatewayOpenApiTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final AtomicInteger PHONES = new AtomicInteger(7_000_000);
    @RegisterExtension
    static final Stack STACK = new Stack();
    private static HubServer hub;
    private static GatewayServer gateway;
    private static CommentServer comment;

    @BeforeAll
    static void start() {
        hub = STACK.start(HubServer.start(STACK.hubConfig()));
        STACK.start(UserServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        STACK.start(PostServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        comment = STACK.start(CommentServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        gateway = STACK.start(GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        await().atMost(Duration.ofSeconds(15))
                .until(() -> gateway.routedServices().containsAll(Set.of("user", "post", "comment")));
    }

    @Test
    void theDocumentIsValidOpenApiOfEveryRouteWithItsParametersSchemasCommentsAndSecurity() throws Exception {
        HttpResponse<String> answer = send(gateway, "GET", "/openapi.json", null, Map.of());
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/json");
        OpenAPI api = parse(answer.body());
        assertThat(api.getOpenapi()).isEqualTo("3.1.0");

        assertThat(operations(api).keySet()).containsExactlyInAnyOrder(
                "POST /user/register", "POST /user/login", "GET /user/me", "POST /user/logout",
                "POST /post", "GET /post", "GET /post/{id}", "DELETE /post/{id}", "GET /post/watch",
                "POST /post/{postId}/comments", "GET /post/{postId}/comments", "GET /user/{author}/comments",
                "DELETE /post/{postId}/comments/{commentId}");
        // a stream: SSE or NDJSON of its messages, resumed from a Last-Event-ID
        Operation watch = operations(api).get("GET /post/watch");
        assertThat(watch.getResponses().get("200").getContent().keySet())
                .containsExactlyInAnyOrder("text/event-stream", "application/x-ndjson");
        assertThat(watch.getResponses().get("200").getContent().get("application/x-ndjson").getSchema().get$ref())
                .endsWith("WatchPostsResponse");
        assertThat(watch.getResponses()).containsKey("406").doesNotContainKey("504");
        assertThat(watch.getParameters()).anyMatch(p -> p.getName().equals("Last-Event-ID") && p.getIn().equals("header"));
        Operation getPost = operations(api).get("GET /post/{id}");
        assertThat(getPost.getOperationId()).isEqualTo("PostService_GetPost");
        assertThat(getPost.getDescription()).isEqualTo("NOT_FOUND when no post has that id.");
        assertThat(getPost.getParameters()).singleElement().satisfies(id -> {
            assertThat(id.getIn()).isEqualTo("path");
            assertThat(id.getRequired()).isTrue();
            assertThat(types(id.getSchema())).containsExactly("string");
        });
        assertThat(getPost.getSecurity()).isNull();
        assertThat(getPost.getResponses().get("200").getContent().get("application/json").getSchema().get$ref())
                .isEqualTo("#/components/schemas/switchboard.post.v1.Post");
        assertThat(getPost.getResponses().get("404").getContent().get("application/json").getSchema().get$ref())
                .isEqualTo("#/components/schemas/gateway-error");

        // query parameters by JSON name and type
        Map<String, Parameter> listQuery = new TreeMap<>();
        operations(api).get("GET /post").getParameters().forEach(p -> listQuery.put(p.getName(), p));
        assertThat(listQuery.keySet()).containsExactly("author", "pageSize", "pageToken");
        assertThat(listQuery.get("pageSize").getIn()).isEqualTo("query");
        assertThat(types(listQuery.get("pageSize").getSchema())).containsExactly("integer");
        assertThat(listQuery.get("pageSize").getSchema().getFormat()).isEqualTo("int32");

        // body: "comment": the body is the comment, the post a path parameter; a token is needed
        Operation createComment = operations(api).get("POST /post/{postId}/comments");
        assertThat(createComment.getRequestBody().getContent().get("application/json").getSchema().get$ref())
                .isEqualTo("#/components/schemas/switchboard.comment.v1.Comment");
        assertThat(createComment.getParameters()).extracting(Parameter::getName).containsExactly("postId");
        assertThat(createComment.getSecurity()).singleElement().satisfies(s -> assertThat(s).containsKey("bearer"));
        assertThat(createComment.getResponses()).containsKeys("201", "400", "401", "404", "413", "415", "503");
        assertThat(api.getComponents().getSecuritySchemes().get("bearer").getScheme()).isEqualTo("bearer");
        // the additional binding is an operation of its own
        assertThat(operations(api).get("GET /user/{author}/comments").getOperationId())
                .isEqualTo("CommentService_ListComments_2");
        // 204: no content
        assertThat(operations(api).get("DELETE /post/{id}").getResponses().get("204").getContent()).isNull();

        Schema<?> schema = api.getComponents().getSchemas().get("switchboard.comment.v1.Comment");
        assertThat(schema.getProperties()).containsOnlyKeys("id", "postId", "author", "text", "createdAt");
        assertThat(schema.getProperties().get("postId").getDescription()).isEqualTo("set by the service, from the path");
        assertThat(api.getComponents().getSchemas().get("gateway-error").getRequired()).containsExactly("error");

        // unchanged: 304 on its ETag
        String etag = answer.headers().firstValue("ETag").orElseThrow();
        assertThat(etag).matches("\"[0-9a-f]{16}\"");
        assertThat(api.getInfo().getVersion()).isEqualTo(etag.replace("\"", ""));
        HttpResponse<String> again = send(gateway, "GET", "/openapi.json", null, Map.of("If-None-Match", etag));
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
    }

    @Test
    void everyOperationAnswersItsDocumentedSuccessForAValidRequestAndADocumentedErrorForAnInvalidOne() throws Exception {
        OpenAPI api = parse(send(gateway, "GET", "/openapi.json", null, Map.of()).body());
        String phone = "+4473" + PHONES.incrementAndGet();
        String credentials = "{\"phoneNumber\":\"" + phone + "\",\"userPassword\":\"secret pass\"}";
        Map<String, String> ids = new HashMap<>();
        // a valid request per operation, in an order that makes each one's data first; deletions last
        Map<String, Function<Map<String, String>, HttpResponse<?>>> valid = new LinkedHashMap<>();
        valid.put("UserService_Register", v -> send(gateway, "POST", "/user/register", credentials, json()));
        valid.put("UserService_Login", v -> {
            HttpResponse<String> login = send(gateway, "POST", "/user/login", credentials, json());
            v.put("token", JsonParser.parseString(login.body()).getAsJsonObject().get("token").getAsString());
            v.put("userId", JsonParser.parseString(login.body()).getAsJsonObject().get("userId").getAsString());
            return login;
        });
        valid.put("UserService_GetUser", v -> send(gateway, "GET", "/user/me", null, bearer(v)));
        valid.put("PostService_CreatePost", v -> {
            HttpResponse<String> created = send(gateway, "POST", "/post", "{\"title\":\"t\",\"content\":\"c\"}", bearer(v));
            v.put("postId", JsonParser.parseString(created.body()).getAsJsonObject().get("id").getAsString());
            return created;
        });
        valid.put("PostService_GetPost", v -> send(gateway, "GET", "/post/" + v.get("postId"), null, Map.of()));
        valid.put("PostService_ListPosts", v -> send(gateway, "GET", "/post?pageSize=2", null, Map.of()));
        // a stream: its status and headers, then the client leaves
        valid.put("PostService_WatchPosts", v -> opened(gateway, "/post/watch?author=" + v.get("userId")));
        valid.put("CommentService_CreateComment", v -> {
            HttpResponse<String> created = send(gateway, "POST", "/post/" + v.get("postId") + "/comments",
                                                "{\"text\":\"hi\"}", bearer(v));
            v.put("commentId", JsonParser.parseString(created.body()).getAsJsonObject().get("id").getAsString());
            return created;
        });
        valid.put("CommentService_ListComments", v -> send(gateway, "GET", "/post/" + v.get("postId") + "/comments",
                                                           null, Map.of()));
        valid.put("CommentService_ListComments_2", v -> send(gateway, "GET", "/user/" + v.get("userId") + "/comments",
                                                             null, Map.of()));
        valid.put("CommentService_DeleteComment", v -> send(gateway, "DELETE", "/post/" + v.get("postId") + "/comments/"
                                                                               + v.get("commentId"), null, bearer(v)));
        valid.put("PostService_DeletePost", v -> send(gateway, "DELETE", "/post/" + v.get("postId"), null, bearer(v)));
        // the token's last use: it is revoked
        valid.put("UserService_Logout", v -> send(gateway, "POST", "/user/logout", null, bearer(v)));

        Map<String, String> documented = new TreeMap<>();
        operations(api).forEach((route, operation) -> documented.put(operation.getOperationId(), route));
        assertThat(valid.keySet()).as("a valid request for every documented operation")
                .containsExactlyInAnyOrderElementsOf(documented.keySet());
        for (Map.Entry<String, Function<Map<String, String>, HttpResponse<?>>> call : valid.entrySet()) {
            Operation operation = operations(api).get(documented.get(call.getKey()));
            String success = operation.getResponses().keySet().stream().filter(s -> s.startsWith("2")).findFirst()
                    .orElseThrow();
            HttpResponse<?> answer = call.getValue().apply(ids);
            assertThat(answer.statusCode()).as("%s: %s", call.getKey(), answer.body()).isEqualTo(Integer.parseInt(success));
        }

        // and an invalid request for each, made from the document alone: no token where one is needed, else a bad
        // path value, else a malformed body, else a query value of the wrong type
        for (Map.Entry<String, Operation> entry : operations(api).entrySet()) {
            String[] route = entry.getKey().split(" ");
            Operation operation = entry.getValue();
            String path = route[1].replaceAll("\\{[^}]+}", "bad%20id");
            String body = operation.getRequestBody() == null ? null : "{\"text\":\"x\",\"title\":\"t\",\"content\":\"c\"}";
            Map<String, String> headers = body == null ? Map.of() : json();
            if (operation.getResponses().get("200") != null && operation.getResponses().get("200").getContent()
                    .containsKey("text/event-stream")) {
                // a stream, asked for in a type it does not stream
                headers = Map.of("Accept", "text/html");
            } else if (operation.getSecurity() == null && !route[1].contains("{")) {
                if (operation.getRequestBody() != null) {
                    body = "{";
                } else {
                    Parameter number = operation.getParameters().stream()
                            .filter(p -> p.getSchema().getTypes().contains("integer")).findFirst().orElseThrow();
                    path += "?" + number.getName() + "=abc";
                }
            }
            HttpResponse<String> answer = send(gateway, route[0], path, body, headers);
            String status = String.valueOf(answer.statusCode());
            assertThat(operation.getResponses()).as("%s answered %s: %s", entry.getKey(), status, answer.body())
                    .containsKey(status);
            ApiResponse documentedError = operation.getResponses().get(status);
            assertThat(documentedError.getContent().get("application/json").getSchema().get$ref())
                    .isEqualTo("#/components/schemas/gateway-error");
            JsonObject error = JsonParser.parseString(answer.body()).getAsJsonObject().getAsJsonObject("error");
            assertThat(error.keySet()).as(entry.getKey()).contains("code", "message", "requestId");
        }
    }

    @Test
    void theDocumentFollowsServicesAsTheyComeAndGo() throws Exception {
        String with = send(gateway, "GET", "/openapi.json", null, Map.of()).headers().firstValue("ETag").orElseThrow();
        comment.close();
        // gone: its routes are kept and answer 503, but the document shows only what can be called now
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HttpResponse<String> without = send(gateway, "GET", "/openapi.json", null, Map.of("If-None-Match", with));
            assertThat(without.statusCode()).isEqualTo(200);
            assertThat(without.headers().firstValue("ETag")).isPresent().get().isNotEqualTo(with);
            assertThat(operations(parse(without.body())).values()).noneMatch(o -> o.getTags().contains("comment"))
                    .anyMatch(o -> o.getTags().contains("post"));
        });
        assertThat(send(gateway, "GET", "/post/p1/comments", null, Map.of()).statusCode()).isEqualTo(503);

        // back: the same API, the same document and ETag
        comment = STACK.start(CommentServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                send(gateway, "GET", "/openapi.json", null, Map.of()).headers().firstValue("ETag")).hasValue(with));
        assertThat(send(gateway, "GET", "/openapi.json", null, Map.of("If-None-Match", with)).statusCode()).isEqualTo(304);
    }

    @Test
    void itCanBeSwitchedOff() throws Exception {
        try (GatewayServer off = GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of("gateway.openapi.enabled", "false")))) {
            await().atMost(Duration.ofSeconds(15)).until(() -> off.routedServices().contains("post"));
            assertThat(send(off, "GET", "/openapi.json", null, Map.of()).statusCode()).isEqualTo(404);
            // the docs page shows that document: off with it
            assertThat(send(off, "GET", "/docs", null, Map.of()).statusCode()).isEqualTo(404);
        }
    }

    private static Set<String> types(Schema<?> schema) {
        return schema.getTypes();
    }

    private static OpenAPI parse(String json) {
        SwaggerParseResult result = new OpenAPIV3Parser().readContents(json);
        assertThat(result.getMessages()).as("swagger-parser's findings").isEmpty();
        return result.getOpenAPI();
    }

    /* "METHOD /path" to its operation */
    private static Map<String, Operation> operations(OpenAPI api) {
        Map<String, Operation> operations = new TreeMap<>();
        api.getPaths().forEach((path, item) -> item.readOperationsMap()
                .forEach((method, operation) -> operations.put(method.name() + " " + path, operation)));
        return operations;
    }

    private static Map<String, String> json() {
        return Map.of("Content-Type", "application/json");
    }

    private static Map<String, String> bearer(Map<String, String> values) {
        return Map.of("Authorization", "Bearer " + values.get("token"), "Content-Type", "application/json");
    }

    /* a stream's answer, once its headers came; its body is closed */
    private static HttpResponse<?> opened(GatewayServer target, String path) {
        try {
            HttpResponse<java.io.InputStream> answer = HTTP.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target.port() + path))
                            .timeout(Duration.ofSeconds(10)).header("Accept", "text/event-stream").build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("text/event-stream"));
            answer.body().close();
            return answer;
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static HttpResponse<String> send(GatewayServer target, String method, String path, String body,
                                             Map<String, String> headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target.port() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

}
