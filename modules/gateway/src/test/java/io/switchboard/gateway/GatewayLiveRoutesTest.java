package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodOptions;
import com.google.protobuf.DynamicMessage;
import io.grpc.HandlerRegistry;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.ListPostsRequest;
import io.switchboard.api.post.v1.ListPostsResponse;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.hub.HubServer;
import io.switchboard.registry.Registration;
import io.switchboard.registry.client.RegistryClient;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Routes that follow the registry: a rolling update that adds a method, two services that claim one route, and a
 * schema the gateway cannot serve. Backends are in-process gRPC servers with their services' certificates; the hub,
 * etcd and the gateway are real.
 */
@Timeout(value = 90, unit = SECONDS)
class GatewayLiveRoutesTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String COUNT_POSTS = "switchboard.post.v1.PostService/CountPosts";
    @RegisterExtension
    static final Stack STACK = new Stack();

    private final List<Registration> registrations = new CopyOnWriteArrayList<>();
    private final Map<String, RegistryClient> registries = new ConcurrentHashMap<>();
    private HubServer hub;
    private GatewayServer gateway;

    @BeforeEach
    void startHubAndGateway() {
        hub = STACK.start(HubServer.start(STACK.hubConfig()));
        gateway = GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of()));
        await().atMost(Duration.ofSeconds(10)).until(() -> management("/observe/health/ready").statusCode() == 200);
    }

    @AfterEach
    void stop() {
        // the next test's gateway must not find this one's instances in the shared etcd, nor this gateway run on
        gateway.close();
        registrations.forEach(Registration::close);
    }

    @Test
    void aRollingUpdateThatAddsAMethodFailsNoRequestAndNeverSendsTheNewMethodToAnOldInstance() throws Exception {
        AtomicInteger newMethodOnOld = new AtomicInteger();
        AtomicInteger newMethodOnNew = new AtomicInteger();
        ApiSchema v2 = postWithCountPosts();
        Server oldA = postBackend(newMethodOnOld, null);
        Server oldB = postBackend(newMethodOnOld, null);
        Registration oldARegistration = register(post("old-a", oldA), Gateways.schemaOf("post"));
        Registration oldBRegistration = register(post("old-b", oldB), Gateways.schemaOf("post"));
        await().atMost(Duration.ofSeconds(5)).until(() -> get("/post/p1").statusCode() == 200);
        assertThat(get("/stats/posts").statusCode()).as("no instance declares it yet").isEqualTo(404);

        // a GET load on the old routes all through the update
        AtomicBoolean loading = new AtomicBoolean(true);
        List<String> failures = new CopyOnWriteArrayList<>();
        AtomicInteger served = new AtomicInteger();
        ExecutorService load = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<?>> workers = new ArrayList<>();
        for (String path : List.of("/post/p1", "/post?pageSize=2")) {
            workers.add(load.submit(() -> {
                while (loading.get()) {
                    try {
                        HttpResponse<String> answer = get(path);
                        if (answer.statusCode() == 200) {
                            served.incrementAndGet();
                        } else {
                            failures.add(path + " " + answer.statusCode() + " " + answer.body());
                        }
                    } catch (java.io.IOException e) {
                        failures.add(path + " at " + java.time.Instant.now() + ": " + e);
                    }
                }
                return null;
            }));
        }
        try {
            Server newA = postBackend(null, newMethodOnNew);
            register(post("new-a", newA), v2);
            // the new route answers as soon as a new instance is up, and only the new instance serves it
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
                    .until(() -> get("/stats/posts").statusCode() == 200);
            for (int i = 0; i < 30; i++) {
                HttpResponse<String> counted = get("/stats/posts");
                assertThat(counted.statusCode()).as(counted.body()).isEqualTo(200);
            }
            stop(oldARegistration, oldA);
            Server newB = postBackend(null, newMethodOnNew);
            register(post("new-b", newB), v2);
            stop(oldBRegistration, oldB);
            for (int i = 0; i < 30; i++) {
                assertThat(get("/stats/posts").statusCode()).isEqualTo(200);
            }
        } finally {
            loading.set(false);
            for (Future<?> worker : workers) {
                worker.get(10, SECONDS);
            }
            load.shutdown();
        }
        assertThat(failures).as("failed requests during the update").isEmpty();
        assertThat(served.get()).as("requests served during the update").isGreaterThan(100);
        assertThat(newMethodOnOld.get()).as("calls of the new method that reached an old instance").isZero();
        assertThat(newMethodOnNew.get()).isGreaterThanOrEqualTo(61);
    }

    @Test
    void twoServicesClaimingOneRouteTheOldestRegistrationServesItAndTheConflictIsCounted() throws Exception {
        Server post = postBackend(new AtomicInteger(), null);
        register(post("incumbent", post), Gateways.schemaOf("post"));
        await().atMost(Duration.ofSeconds(5)).until(() -> get("/post/p1").statusCode() == 200);
        List<String> warnings = captureWarnings();

        // a later service claims GET /post/{name} (the same shape as post's GET /post/{id}) and a route of its own
        Map<String, AtomicInteger> rivalCalls = new ConcurrentHashMap<>();
        ServiceDescriptor rival = DynamicProtos.service("", DynamicProtos.get("/post/{name}"),
                                                        DynamicProtos.get("/rival/hello"));
        register(instance("rival", "rival-1", dynamicBackend("rival", rival, rivalCalls)),
                 io.switchboard.schema.ApiSchemas.of(List.of(rival)));
        await().atMost(Duration.ofSeconds(2)).until(() -> get("/rival/hello?name=x").statusCode() == 200);

        for (int i = 0; i < 20; i++) {
            HttpResponse<String> got = get("/post/p" + i);
            assertThat(got.statusCode()).isEqualTo(200);
            assertThat(got.body()).as("post's answer, not the rival's echo").contains("\"id\":\"p" + i + "\"")
                    .doesNotContain("\"name\"");
        }
        assertThat(rivalCalls.getOrDefault("M0", new AtomicInteger()).get()).isZero();
        assertThat(metric("switchboard_gateway_route_conflicts", "rival")).isEqualTo(1.0);
        assertThat(metric("switchboard_gateway_route_conflicts", "post")).isEqualTo(0.0);
        assertThat(warnings).filteredOn(w -> w.contains("GET /post/{name} of rival (test.Demo/M0) is not served"))
                .hasSize(1)
                .allSatisfy(w -> assertThat(w).contains("post (switchboard.post.v1.PostService/GetPost) has it"));
        // the hub's dashboard settles it alike
        JsonObject hubRoutes = JsonParser.parseString(STACK.http().send(
                HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + hub.managementPort() + "/ui/api/routes")).build(),
                HttpResponse.BodyHandlers.ofString()).body()).getAsJsonObject();
        JsonObject conflict = hubRoutes.getAsJsonArray("conflicts").get(0).getAsJsonObject();
        assertThat(hubRoutes.getAsJsonArray("conflicts")).hasSize(1);
        assertThat(conflict.get("service").getAsString() + " " + conflict.get("path").getAsString() + " -> "
                   + conflict.getAsJsonObject("winner").get("service").getAsString())
                .isEqualTo("rival /post/{name} -> post");
    }

    @Test
    void aSchemaWithARouteTheGatewayCannotServeIsRefusedWholeAndTheOtherRoutesKeepWorking() throws Exception {
        Server post = postBackend(new AtomicInteger(), null);
        register(post("steady", post), Gateways.schemaOf("post"));
        await().atMost(Duration.ofSeconds(5)).until(() -> get("/post/p1").statusCode() == 200);
        List<String> warnings = captureWarnings();

        // several segments bound to a number field: the hub takes the files (they build), no gateway can serve the rule
        Map<String, AtomicInteger> brokenCalls = new ConcurrentHashMap<>();
        ServiceDescriptor broken = DynamicProtos.service("", DynamicProtos.get("/broken/ok"),
                                                         DynamicProtos.get("/broken/{big=**}"));
        register(instance("broken", "broken-1", dynamicBackend("broken", broken, brokenCalls)),
                 io.switchboard.schema.ApiSchemas.of(List.of(broken)));
        await().atMost(Duration.ofSeconds(5))
                .until(() -> metric("switchboard_gateway_refused_schemas", "broken") == 1.0);

        assertThat(warnings).filteredOn(w -> w.startsWith("refusing the API of broken")).singleElement()
                .satisfies(w -> assertThat(w).contains("/broken/{big=**}").contains("it must name a string field"));
        // refused whole: even its servable route is not served, and it receives no call
        assertThat(get("/broken/ok").statusCode()).isEqualTo(404);
        assertThat(brokenCalls).isEmpty();
        for (int i = 0; i < 10; i++) {
            assertThat(get("/post/p" + i).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void theGoogleApiHttpMappingThroughTheGateway() throws Exception {
        Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
        ServiceDescriptor mapping = DynamicProtos.service(
                "", DynamicProtos.get("/mapping/{name=shelves/*}"),
                DynamicProtos.get("/mapping/files/{name=**}"),
                DynamicProtos.get("/mapping/{child.name}/nested"),
                HttpRule.newBuilder().setPost("/mapping/{name}:cancel").setBody("*").build(),
                HttpRule.newBuilder().setGet("/mapping/q")
                        .addAdditionalBindings(HttpRule.newBuilder().setGet("/mapping/alt/{name}")).build(),
                HttpRule.newBuilder().setPatch("/mapping/{name}").setBody("child").build(),
                HttpRule.newBuilder().setGet("/mapping/{name}/child").setResponseBody("child").build());
        register(instance("mapping", "mapping-1", dynamicBackend("mapping", mapping, calls)),
                 io.switchboard.schema.ApiSchemas.of(List.of(mapping)));
        await().atMost(Duration.ofSeconds(2)).until(() -> get("/mapping/q").statusCode() == 200);

        // the backend echoes its request: what the gateway made of the path, query and body
        assertThat(echo("/mapping/shelves/s1")).containsEntry("name", "shelves/s1");
        assertThat(get("/mapping/racks/s1").statusCode()).isEqualTo(404);
        assertThat(echo("/mapping/files/a/b%20c.txt")).containsEntry("name", "a/b c.txt");
        JsonObject nested = JsonParser.parseString(get("/mapping/inner/nested?kind=SECOND&child.count=3&ratio=0.5").body())
                .getAsJsonObject();
        assertThat(nested.getAsJsonObject("child").get("name").getAsString()).isEqualTo("inner");
        assertThat(nested.getAsJsonObject("child").get("count").getAsInt()).isEqualTo(3);
        assertThat(nested.get("kind").getAsString()).isEqualTo("SECOND");
        assertThat(nested.get("ratio").getAsDouble()).isEqualTo(0.5);
        HttpResponse<String> cancelled = HTTP.send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + gateway.port() + "/mapping/o1:cancel"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"count\":2}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
        assertThat(JsonParser.parseString(cancelled.body()).getAsJsonObject().get("name").getAsString()).isEqualTo("o1");
        assertThat(echo("/mapping/alt/zz")).containsEntry("name", "zz");
        assertThat(echo("/mapping/q?name=x")).containsEntry("name", "x");
        assertThat(get("/mapping/inner/nested?kind=THIRD").statusCode()).isEqualTo(400);

        // body: "child" on a PATCH: the body fills child, the query the rest, the update mask says what the body set
        HttpResponse<String> patched = HTTP.send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + gateway.port() + "/mapping/p1?count=9"))
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"name\":\"c\",\"child\":{\"flag\":true}}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
        JsonObject echoed = JsonParser.parseString(patched.body()).getAsJsonObject();
        assertThat(echoed.get("name").getAsString()).isEqualTo("p1");
        assertThat(echoed.get("count").getAsInt()).isEqualTo(9);
        assertThat(echoed.getAsJsonObject("child").get("name").getAsString()).isEqualTo("c");
        assertThat(echoed.get("updateMask").getAsString()).isEqualTo("name,child.flag");
        // response_body: "child": the answer is the child alone
        JsonObject child = JsonParser.parseString(get("/mapping/p2/child?child.count=5").body()).getAsJsonObject();
        assertThat(child.get("count").getAsInt()).isEqualTo(5);
        assertThat(child.has("child")).isFalse();
        assertThat(calls.get("M4").get()).isEqualTo(3);
    }

    /* The string fields of an echoed request. */
    private Map<String, String> echo(String path) throws Exception {
        HttpResponse<String> answer = get(path);
        assertThat(answer.statusCode()).as(path + ": " + answer.body()).isEqualTo(200);
        Map<String, String> fields = new java.util.TreeMap<>();
        JsonParser.parseString(answer.body()).getAsJsonObject().entrySet().stream()
                .filter(e -> e.getValue().isJsonPrimitive())
                .forEach(e -> fields.put(e.getKey(), e.getValue().getAsString()));
        return fields;
    }

    private Registration register(Instance instance, ApiSchema schema) {
        RegistryClient registry = registries.computeIfAbsent(instance.getService(), service -> STACK.start(
                RegistryClient.create("127.0.0.1:" + hub.port(), STACK.identity(service))));
        Registration registration = registry.register(instance, schema, Duration.ofSeconds(10));
        registrations.add(registration);
        await().atMost(Duration.ofSeconds(10)).until(registration::healthy);
        return registration;
    }

    /* As a service stops: it deregisters, serves what it still gets for a moment, then stops. */
    private static void stop(Registration registration, Server server) throws InterruptedException {
        registration.close();
        Thread.sleep(500);
        server.shutdown();
        server.awaitTermination(5, SECONDS);
    }

    /*
     * A post backend. An old one (newMethodOnOld set) counts every call of a method it does not have; a new one
     * (newMethodOnNew set) also serves CountPosts.
     */
    private static Server postBackend(AtomicInteger newMethodOnOld, AtomicInteger newMethodOnNew) throws Exception {
        MethodDescriptor<ListPostsRequest, ListPostsResponse> countPosts = MethodDescriptor
                .<ListPostsRequest, ListPostsResponse>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(COUNT_POSTS)
                .setRequestMarshaller(ProtoUtils.marshaller(ListPostsRequest.getDefaultInstance()))
                .setResponseMarshaller(ProtoUtils.marshaller(ListPostsResponse.getDefaultInstance()))
                .build();
        ServerMethodDefinition<ListPostsRequest, ListPostsResponse> counting = ServerMethodDefinition.create(
                countPosts, ServerCalls.asyncUnaryCall((request, answers) -> {
                    newMethodOnNew.incrementAndGet();
                    answers.onNext(ListPostsResponse.newBuilder().setNextPageToken("counted").build());
                    answers.onCompleted();
                }));
        return STACK.start(Gateways.asPost(NettyServerBuilder.forPort(0), STACK)
                                   .addService(new PostServiceGrpc.PostServiceImplBase() {
                                       @Override
                                       public void getPost(GetPostRequest request, StreamObserver<Post> answers) {
                                           answers.onNext(Post.newBuilder().setId(request.getId()).build());
                                           answers.onCompleted();
                                       }

                                       @Override
                                       public void listPosts(ListPostsRequest request,
                                                             StreamObserver<ListPostsResponse> answers) {
                                           answers.onNext(ListPostsResponse.getDefaultInstance());
                                           answers.onCompleted();
                                       }
                                   })
                                   .fallbackHandlerRegistry(new HandlerRegistry() {
                                       @Override
                                       public ServerMethodDefinition<?, ?> lookupMethod(String method, String authority) {
                                           if (newMethodOnNew != null && COUNT_POSTS.equals(method)) {
                                               return counting;
                                           }
                                           if (newMethodOnOld != null) {
                                               newMethodOnOld.incrementAndGet();
                                           }
                                           return null;
                                       }
                                   })
                                   .build().start(), Server::shutdownNow);
    }

    /* A backend of a service built at run time: every method echoes its request and is counted. */
    @SuppressWarnings("unchecked")
    private static Server dynamicBackend(String service, ServiceDescriptor grpc, Map<String, AtomicInteger> calls)
            throws Exception {
        ServerServiceDefinition.Builder definition = ServerServiceDefinition.builder(grpc);
        for (MethodDescriptor<?, ?> method : grpc.getMethods()) {
            definition.addMethod((MethodDescriptor<DynamicMessage, DynamicMessage>) method,
                                 ServerCalls.asyncUnaryCall((request, answers) -> {
                                     calls.computeIfAbsent(method.getBareMethodName(), m -> new AtomicInteger())
                                             .incrementAndGet();
                                     answers.onNext(request);
                                     answers.onCompleted();
                                 }));
        }
        return STACK.start(Gateways.as(service, NettyServerBuilder.forPort(0), STACK).addService(definition.build())
                                   .build().start(), Server::shutdownNow);
    }

    /* Post's schema, with one more method: CountPosts at GET /stats/posts. */
    private static ApiSchema postWithCountPosts() {
        ApiSchema v1 = Gateways.schemaOf("post");
        List<FileDescriptorProto> files = new ArrayList<>(v1.getFiles().getFileList());
        for (int i = 0; i < files.size(); i++) {
            FileDescriptorProto file = files.get(i);
            if (file.getName().equals("switchboard/post/v1/post.proto")) {
                files.set(i, file.toBuilder().setService(0, file.getService(0).toBuilder().addMethod(
                        MethodDescriptorProto.newBuilder()
                                .setName("CountPosts")
                                .setInputType(".switchboard.post.v1.ListPostsRequest")
                                .setOutputType(".switchboard.post.v1.ListPostsResponse")
                                .setOptions(MethodOptions.newBuilder().setExtension(
                                        AnnotationsProto.http, HttpRule.newBuilder().setGet("/stats/posts").build())))).build());
            }
        }
        return v1.toBuilder().setFiles(v1.getFiles().toBuilder().clearFile().addAllFile(files)).build();
    }

    private static Instance post(String id, Server server) {
        return instance("post", id, server);
    }

    private static Instance instance(String service, String id, Server server) {
        return Instance.newBuilder().setService(service).setId(id).setHost("127.0.0.1").setPort(server.getPort()).build();
    }

    /* The WARNING lines of the live routes from now on. */
    private static List<String> captureWarnings() {
        List<String> lines = new CopyOnWriteArrayList<>();
        Logger logger = Logger.getLogger(LiveRoutes.class.getName());
        logger.addHandler(new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                    lines.add(record.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
        return lines;
    }

    /* A gauge's value for one service, NaN when the gateway does not have it. */
    private double metric(String name, String service) throws Exception {
        String text = management("/observe/metrics").body();
        return text.lines().filter(line -> line.startsWith(name + "{") && line.contains("service=\"" + service + "\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst().orElse(Double.NaN);
    }

    /* A path on the gateway's management port. */
    private HttpResponse<String> management(String path) throws Exception {
        return STACK.http().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + gateway.managementPort() + path))
                                         .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                                 .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
