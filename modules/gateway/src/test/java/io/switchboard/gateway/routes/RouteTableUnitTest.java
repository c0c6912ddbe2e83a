package io.switchboard.gateway.routes;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.google.api.CustomHttpPattern;
import com.google.api.HttpRule;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.api.gateway.v1.RouteProto;
import io.switchboard.gateway.DynamicProtos;
import io.switchboard.schema.Route;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

@Timeout(10)
class RouteTableUnitTest {
    private static final RouteTable TABLE = RouteTable.of(List.of(UserServiceGrpc.getServiceDescriptor(),
                                                                  PostServiceGrpc.getServiceDescriptor()));

    @Test
    void everyAnnotatedRpcBecomesOneRouteWithItsOptionsAndDefaults() {
        assertThat(TABLE.routes())
                .extracting(Route::httpMethod, Route::template, Route::backend, r -> r.method().getBareMethodName(),
                            Route::body, Route::auth, Route::successStatus, Route::idempotent, Route::rateLimited,
                            Route::deadlineMillis)
                .containsExactly(
                        tuple("POST", "/user/register", "user", "Register", true, false, 201, false, true, 5000L),
                        tuple("POST", "/user/login", "user", "Login", true, false, 200, false, true, 5000L),
                        tuple("GET", "/user/me", "user", "GetUser", false, true, 200, true, false, 5000L),
                        tuple("POST", "/user/logout", "user", "Logout", false, true, 200, false, false, 5000L),
                        tuple("POST", "/post", "post", "CreatePost", true, true, 201, false, false, 5000L),
                        tuple("GET", "/post/{id}", "post", "GetPost", false, false, 200, true, false, 5000L),
                        tuple("GET", "/post", "post", "ListPosts", false, false, 200, true, false, 5000L),
                        tuple("GET", "/post/watch", "post", "WatchPosts", false, false, 200, true, false, 5000L),
                        tuple("DELETE", "/post/{id}", "post", "DeletePost", false, true, 204, true, false, 5000L));
    }

    @Test
    void theRequestTypeOfARouteIsItsMethodsRequestMessage() {
        assertThat(TABLE.match("POST", "/post").route().requestType().getDescriptorForType().getFullName())
                .isEqualTo("switchboard.post.v1.CreatePostRequest");
        assertThat(TABLE.match("GET", "/post/1").route().requestType().getDescriptorForType().getFullName())
                .isEqualTo("switchboard.post.v1.GetPostRequest");
    }

    @Test
    void anRpcWithoutAnHttpRuleHasNoRoute() {
        assertThat(TABLE.routes()).extracting(r -> r.method().getBareMethodName()).doesNotContain("GetJwks");
    }

    @Test
    void backendsAreTheServicesNamesOnceEachInDeclarationOrder() {
        assertThat(TABLE.backends()).containsExactly("user", "post");
    }

    @Test
    void aRequestFindsTheRouteOfItsMethodAndPath() {
        assertThat(route("POST", "/user/register")).isEqualTo("Register");
        assertThat(route("POST", "/user/login")).isEqualTo("Login");
        assertThat(route("GET", "/user/me")).isEqualTo("GetUser");
        assertThat(route("POST", "/post")).isEqualTo("CreatePost");
        assertThat(route("GET", "/post")).isEqualTo("ListPosts");
        assertThat(route("GET", "/post/7")).isEqualTo("GetPost");
        assertThat(route("DELETE", "/post/7")).isEqualTo("DeletePost");
    }

    @Test
    void aMatchCarriesThePathVariablesRawAndNothingElse() {
        RouteTable.Match match = TABLE.match("DELETE", "/post/a%2Fb");

        assertThat(match.route().method().getBareMethodName()).isEqualTo("DeletePost");
        assertThat(match.variables()).containsExactly(Map.entry("id", "a%2Fb"));
        assertThat(match.allowed()).isEmpty();
        assertThat(TABLE.match("GET", "/post").variables()).isEmpty();
    }

    @Test
    void twoMatchesDoNotShareTheirVariables() {
        RouteTable.Match first = TABLE.match("GET", "/post/1");
        RouteTable.Match second = TABLE.match("GET", "/post/2");

        assertThat(first.variables()).containsExactly(Map.entry("id", "1"));
        assertThat(second.variables()).containsExactly(Map.entry("id", "2"));
    }

    @Test
    void aKnownPathWithAnotherMethodIs405WithTheAllowedMethodsSorted() {
        RouteTable.Match put = TABLE.match("PUT", "/post/7");
        assertThat(put.route()).isNull();
        assertThat(put.allowed()).containsExactly("DELETE", "GET");
        assertThat(put.variables()).isEmpty();

        assertThat(TABLE.match("PATCH", "/post").allowed()).containsExactly("GET", "POST");
        assertThat(TABLE.match("GET", "/user/login").allowed()).containsExactly("POST");
        assertThat(TABLE.match("DELETE", "/user/me").allowed()).containsExactly("GET");
    }

    @Test
    void methodNamesAreCaseSensitive() {
        RouteTable.Match match = TABLE.match("get", "/post");

        assertThat(match.route()).isNull();
        assertThat(match.allowed()).containsExactly("GET", "POST");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/", "/nope", "/POST", "/Post/7", "/user", "/user/me/x", "/post/7/x", "/post//",
                            "//post", "/post//7", "/user/../post", "/post/../user/me", "/observe/../post",
                            "/user/m%65", "/user%2Fme"})
    void anUnknownPathIs404WithNoAllowedMethods(String path) {
        for (String method : List.of("GET", "POST", "DELETE", "PUT")) {
            RouteTable.Match match = TABLE.match(method, path);
            assertThat(match.route()).as(method + " " + path).isNull();
            assertThat(match.allowed()).as(method + " " + path).isEmpty();
            assertThat(match.variables()).isEmpty();
        }
    }

    @Test
    void oneTrailingSlashIsIgnored() {
        assertThat(route("GET", "/post/")).isEqualTo("ListPosts");
        assertThat(route("GET", "/user/me/")).isEqualTo("GetUser");
        RouteTable.Match match = TABLE.match("GET", "/post/7/");
        assertThat(match.route().method().getBareMethodName()).isEqualTo("GetPost");
        assertThat(match.variables()).containsExactly(Map.entry("id", "7"));
    }

    @Test
    void aDotSegmentInAVariableIsPassedOnAsAValueNotResolved() {
        // the backend validates ids; the gateway must not turn /post/.. into /post or / (no path normalization)
        RouteTable.Match match = TABLE.match("GET", "/post/..");

        assertThat(match.route().method().getBareMethodName()).isEqualTo("GetPost");
        assertThat(match.variables()).containsExactly(Map.entry("id", ".."));
    }

    @Test
    void aVeryLongPathIsRefusedQuickly() {
        long start = System.nanoTime();

        RouteTable.Match deep = TABLE.match("GET", "/post".repeat(100_000));
        RouteTable.Match wide = TABLE.match("GET", "/post/" + "x".repeat(1_000_000));

        assertThat(deep.route()).isNull();
        assertThat(deep.allowed()).isEmpty();
        // one segment of any length is still one id: its length is the backend's business
        assertThat(wide.route().method().getBareMethodName()).isEqualTo("GetPost");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void aServiceWithoutABackendOptionIsRefused() {
        assertThatThrownBy(() -> RouteTable.of(List.of(HubGrpc.getServiceDescriptor())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("switchboard.hub.v1.Hub")
                .hasMessageContaining("backend");
        assertThatThrownBy(() -> RouteTable.of(List.of(DynamicProtos.service("", DynamicProtos.get("/x")))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("backend");
    }

    @Test
    void aBodyOrResponseBodyMustNameATopLevelField() {
        HttpRule body = HttpRule.newBuilder().setPost("/x").setBody("child").setResponseBody("tags").build();
        Route route = RouteTable.of(List.of(DynamicProtos.service("demo", body))).routes().get(0);
        assertThat(route.body()).isTrue();
        assertThat(route.bodyField()).isEqualTo("child");
        assertThat(route.responseBody()).isEqualTo("tags");

        for (HttpRule rule : List.of(HttpRule.newBuilder().setPost("/x").setBody("nosuch").build(),
                                     HttpRule.newBuilder().setPost("/x").setBody("child.name").build(),
                                     HttpRule.newBuilder().setGet("/x").setResponseBody("nosuch").build())) {
            assertThatThrownBy(() -> RouteTable.of(List.of(DynamicProtos.service("demo", rule))))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("test.Demo.M0")
                    .hasMessageContaining("names no top-level field of test.Sample");
        }
    }

    @Test
    void aServerStreamingMethodIsAStreamingRouteWithItsResumeFieldsAndClientStreamingIsRefused() {
        var stream = DynamicProtos.method(0, DynamicProtos.get("/x/watch")).setServerStreaming(true);
        stream.getOptionsBuilder().setExtension(RouteProto.route, io.switchboard.api.gateway.v1.Route.newBuilder()
                .setEventId("name").setResumeField("page_token").build());
        Route route = RouteTable.of(List.of(DynamicProtos.service("demo", stream.build()))).routes().get(0);
        assertThat(route.streaming()).isTrue();
        assertThat(route.method().getType()).isEqualTo(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING);
        assertThat(route.eventIdField()).isEqualTo("name");
        assertThat(route.resumeField()).isEqualTo("page_token");
        assertThat(TABLE.routes()).filteredOn(Route::streaming).extracting(Route::template).containsExactly("/post/watch");
        assertThat(TABLE.match("GET", "/post/watch").route().method().getBareMethodName()).isEqualTo("WatchPosts");

        var client = DynamicProtos.method(0, DynamicProtos.get("/x")).setClientStreaming(true);
        assertThatThrownBy(() -> RouteTable.of(List.of(DynamicProtos.service("demo", client.build()))))
                .hasMessage("test.Demo.M0: client-streaming methods are not served over HTTP");

        var unary = DynamicProtos.method(0, DynamicProtos.get("/x"));
        unary.getOptionsBuilder().setExtension(RouteProto.route, io.switchboard.api.gateway.v1.Route.newBuilder().setEventId("name").build());
        assertThatThrownBy(() -> RouteTable.of(List.of(DynamicProtos.service("demo", unary.build()))))
                .hasMessageContaining("event_id and resume_field are for server-streaming methods");
        for (io.switchboard.api.gateway.v1.Route options : List.of(io.switchboard.api.gateway.v1.Route.newBuilder().setEventId("count").build(),
                                                io.switchboard.api.gateway.v1.Route.newBuilder().setEventId("tags").build(),
                                                io.switchboard.api.gateway.v1.Route.newBuilder().setResumeField("nosuch").build())) {
            var bad = DynamicProtos.method(0, DynamicProtos.get("/x")).setServerStreaming(true);
            bad.getOptionsBuilder().setExtension(RouteProto.route, options);
            assertThatThrownBy(() -> RouteTable.of(List.of(DynamicProtos.service("demo", bad.build()))))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("names no top-level string field of test.Sample");
        }
    }

    @Test
    void aCustomOrMissingHttpPatternIsRefused() {
        HttpRule custom = HttpRule.newBuilder()
                .setCustom(CustomHttpPattern.newBuilder().setKind("HEAD").setPath("/x"))
                .build();
        HttpRule empty = HttpRule.newBuilder().setBody("*").build();

        assertThatThrownBy(() -> RouteTable.of(List.of(DynamicProtos.service("demo", custom))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unsupported http rule");
        assertThatThrownBy(() -> RouteTable.of(List.of(DynamicProtos.service("demo", empty))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unsupported http rule");
    }

    @Test
    void aVariableOfSeveralSegmentsMustNameAStringFieldAndIsRefusedAtStartOtherwise() {
        assertThatThrownBy(() -> RouteTable.of(List.of(DynamicProtos.service("demo", DynamicProtos.get("/x/{big=**}")))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/x/{big=**}")
                .hasMessageContaining("takes several segments: it must name a string field");
        RouteTable table = RouteTable.of(List.of(DynamicProtos.service("demo", DynamicProtos.get("/x/{name=**}"),
                                                                       DynamicProtos.get("/y/{name=shelves/*}"))));
        assertThat(table.match("GET", "/x/a/b/c").variables()).containsExactly(Map.entry("name", "a/b/c"));
        assertThat(table.match("GET", "/y/shelves/s1").variables()).containsExactly(Map.entry("name", "shelves/s1"));
        assertThat(table.match("GET", "/y/racks/s1").route()).isNull();
    }

    @Test
    void additionalBindingsAreRoutesOfTheSameMethodAndMayNotNest() {
        HttpRule rule = HttpRule.newBuilder().setGet("/x/{name}")
                .addAdditionalBindings(HttpRule.newBuilder().setPost("/x/{name}:lookup").setBody("*"))
                .addAdditionalBindings(HttpRule.newBuilder().setGet("/v2/x/{name}"))
                .build();
        RouteTable table = RouteTable.of(List.of(DynamicProtos.service("demo", rule)));

        assertThat(table.routes()).extracting(r -> r.httpMethod() + " " + r.template())
                .containsExactlyInAnyOrder("GET /x/{name}", "POST /x/{name}:lookup", "GET /v2/x/{name}");
        assertThat(table.routes()).allSatisfy(r -> assertThat(r.method().getBareMethodName()).isEqualTo("M0"));
        assertThat(table.match("POST", "/x/a:lookup").variables()).containsExactly(Map.entry("name", "a"));
        assertThat(table.match("POST", "/x/a:lookup").route().body()).isTrue();
        assertThat(table.match("GET", "/v2/x/b").route().body()).isFalse();

        HttpRule nested = HttpRule.newBuilder().setGet("/x/{name}")
                .addAdditionalBindings(HttpRule.newBuilder().setGet("/y/{name}")
                                               .addAdditionalBindings(HttpRule.newBuilder().setGet("/z/{name}")))
                .build();
        assertThatThrownBy(() -> RouteTable.of(List.of(DynamicProtos.service("demo", nested))))
                .hasMessage("test.Demo.M0: additional_bindings cannot nest");
    }

    @Test
    void aCustomVerbRouteIsTriedBeforeThePlainOne() {
        RouteTable table = RouteTable.of(List.of(DynamicProtos.service(
                "demo", HttpRule.newBuilder().setPost("/x/{name}").setBody("*").build(),
                HttpRule.newBuilder().setPost("/x/{name}:cancel").setBody("*").build())));

        assertThat(table.match("POST", "/x/a:cancel").route().method().getBareMethodName()).isEqualTo("M1");
        assertThat(table.match("POST", "/x/a:cancel").variables()).containsExactly(Map.entry("name", "a"));
        assertThat(table.match("POST", "/x/a").route().method().getBareMethodName()).isEqualTo("M0");
        assertThat(table.match("POST", "/x/a:other").variables()).containsExactly(Map.entry("name", "a:other"));
    }

    @Test
    void theMostSpecificTemplateWinsWhateverTheDeclarationOrder() {
        RouteTable table = RouteTable.of(List.of(DynamicProtos.service(
                "demo", DynamicProtos.get("/x/{name}"), DynamicProtos.get("/x/latest"),
                HttpRule.newBuilder().setPost("/x/{name}").setBody("*").build())));

        assertThat(table.match("GET", "/x/latest").route().method().getBareMethodName()).isEqualTo("M1");
        assertThat(table.match("GET", "/x/latest").variables()).isEmpty();
        assertThat(table.match("GET", "/x/other").route().method().getBareMethodName()).isEqualTo("M0");
        assertThat(table.match("GET", "/x/other").variables()).containsEntry("name", "other");
        // a literal route of another method does not hide the variable route of this one
        assertThat(table.match("POST", "/x/latest").route().method().getBareMethodName()).isEqualTo("M2");
        assertThat(table.match("POST", "/x/latest").variables()).containsEntry("name", "latest");
        assertThat(table.match("DELETE", "/x/latest").allowed()).containsExactly("GET", "POST");
    }

    @Test
    void aPathVariableMustNameASingularScalarFieldOfTheRequest() {
        for (String template : new String[] {"/x/{nosuch}", "/x/{tags}", "/x/{child}", "/x/{child.nosuch}",
                                             "/x/{tags.name}", "/x/{child.child}", "/x/{}", "/x/{name",
                                             "/x/na}me"}) {
            assertThatThrownBy(() -> RouteTable.of(List.of(DynamicProtos.service("demo", DynamicProtos.get(template)))))
                    .as(template)
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(RouteTable.of(List.of(DynamicProtos.service("demo", DynamicProtos.get("/x/{page_token}/{big}"))))
                           .match("GET", "/x/a/7").variables())
                .containsEntry("page_token", "a").containsEntry("big", "7");
        // a field of a message field, by its proto or JSON name
        assertThat(RouteTable.of(List.of(DynamicProtos.service("demo", DynamicProtos.get("/x/{child.pageToken}"))))
                           .match("GET", "/x/t").variables())
                .containsExactly(Map.entry("child.pageToken", "t"));
    }

    @Test
    void putAndPatchRulesAreServed() {
        RouteTable table = RouteTable.of(List.of(DynamicProtos.service(
                "demo", HttpRule.newBuilder().setPut("/x/{name}").setBody("*").build(),
                HttpRule.newBuilder().setPatch("/x/{name}").setBody("*").build())));

        assertThat(table.match("PUT", "/x/a").route().method().getBareMethodName()).isEqualTo("M0");
        assertThat(table.match("PATCH", "/x/a").route().method().getBareMethodName()).isEqualTo("M1");
        assertThat(table.match("PUT", "/x/a").route().idempotent()).isFalse();
        assertThat(table.match("GET", "/x/a").allowed()).containsExactly("PATCH", "PUT");
        assertThat(table.backends()).containsExactly("demo");
    }

    private static String route(String method, String path) {
        Route route = TABLE.match(method, path).route();
        assertThat(route).as(method + " " + path).isNotNull();
        return route.method().getBareMethodName();
    }
}
