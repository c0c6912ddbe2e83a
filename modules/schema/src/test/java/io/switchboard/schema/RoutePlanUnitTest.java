package io.switchboard.schema;

import java.util.List;
import java.util.Map;
import java.util.Set;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodOptions;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.schema.RoutePlan.SchemaRoutes;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RoutePlanUnitTest {
    private static final ApiSchema POST = ApiSchemas.of(List.of(PostServiceGrpc.getServiceDescriptor()));
    private static final ApiSchema USER = ApiSchemas.of(List.of(UserServiceGrpc.getServiceDescriptor()));
    private static final String POST_ID = "sha256:p";
    private static final String USER_ID = "sha256:u";

    @Test
    void eachServiceRoutesToItsOwnInstancesAndNothingConflicts() {
        RoutePlan plan = RoutePlan.of(List.of(instance("post", "p-1", POST_ID, 10), instance("user", "u-1", USER_ID, 11)),
                                      RoutePlanUnitTest::read, RoutePlan.EMPTY);

        assertThat(plan.routes()).extracting(r -> r.httpMethod() + " " + r.template() + " " + r.backend())
                .containsExactlyInAnyOrder("POST /post post", "GET /post/{id} post", "GET /post post",
                                           "DELETE /post/{id} post", "GET /post/watch post", "POST /user/register user",
                                           "POST /user/login user", "GET /user/me user", "POST /user/logout user");
        assertThat(plan.routes()).allSatisfy(r -> assertThat(r.schemas()).hasSize(1));
        assertThat(plan.conflicts()).isEmpty();
        assertThat(plan.unavailable()).isEmpty();
        assertThat(plan.incomplete()).isFalse();
    }

    @Test
    void theLongestRegisteredLiveClaimWinsWhateverTheNamesAndAServiceThatIsDownKeepsItsRoutesUntilALiveOneClaimsThem() {
        // "another" sorts before "post" and serves post's API under its own name (read as another's routes)
        List<Instance> both = List.of(instance("post", "p-1", POST_ID, 10), instance("another", "a-1", "sha256:a", 20));
        RoutePlan plan = RoutePlan.of(both, RoutePlanUnitTest::read, RoutePlan.EMPTY);
        assertThat(plan.routes()).extracting(Route::backend).containsOnly("post");
        assertThat(plan.conflicts()).hasSize(5).allSatisfy(c -> {
            assertThat(c.loser().backend()).isEqualTo("another");
            assertThat(c.winner().backend()).isEqualTo("post");
        });
        // registered in the other order, the other one wins
        RoutePlan reversed = RoutePlan.of(List.of(instance("post", "p-1", POST_ID, 30), instance("another", "a-1", "sha256:a", 20)),
                                          RoutePlanUnitTest::read, RoutePlan.EMPTY);
        assertThat(reversed.routes()).extracting(Route::backend).containsOnly("another");

        // post goes: its routes stay, unavailable, while no live service claims them
        RoutePlan postOnly = RoutePlan.of(List.of(instance("post", "p-1", POST_ID, 10)), RoutePlanUnitTest::read,
                                          RoutePlan.EMPTY);
        RoutePlan gone = RoutePlan.of(List.of(), RoutePlanUnitTest::read, postOnly);
        assertThat(gone.routes()).extracting(Route::backend).containsOnly("post").hasSize(5);
        assertThat(gone.unavailable()).containsExactly("post");
        // a live claim wins over routes kept for a service that is down
        RoutePlan taken = RoutePlan.of(List.of(instance("another", "a-1", "sha256:a", 50)), RoutePlanUnitTest::read, gone);
        assertThat(taken.routes()).extracting(Route::backend).containsOnly("another");
        assertThat(taken.conflicts()).extracting(c -> c.loser().backend()).containsOnly("post");
    }

    @Test
    void twoVersionsSideBySideShareTheirCommonRoutesAndOnlyTheNewOneServesItsNewRoute() {
        // post's old version (p-1) declares only its first two routes, the new one (p-2) all four
        List<Instance> rolling = List.of(instance("post", "p-1", POST_ID, 10), instance("post", "p-2", "sha256:p2", 40));
        RoutePlan plan = RoutePlan.of(rolling, (service, id) -> id.equals("sha256:p2")
                ? SchemaRoutes.read(service, id, POST)
                : new SchemaRoutes(SchemaRoutes.read(service, id, POST).routes().subList(0, 2), null), RoutePlan.EMPTY);

        Map<String, Set<String>> servedBy = new java.util.TreeMap<>();
        plan.routes().forEach(r -> servedBy.put(r.httpMethod() + " " + r.template(), r.schemas()));
        assertThat(servedBy).containsEntry("POST /post", Set.of(POST_ID, "sha256:p2"))
                .containsEntry("GET /post/{id}", Set.of(POST_ID, "sha256:p2"))
                .containsEntry("GET /post", Set.of("sha256:p2"))
                .containsEntry("DELETE /post/{id}", Set.of("sha256:p2"));
    }

    @Test
    void aRefusedSchemaGivesNoRouteAndASchemaNotReadYetMakesThePlanIncomplete() {
        RoutePlan plan = RoutePlan.of(List.of(instance("post", "p-1", POST_ID, 10), instance("user", "u-1", USER_ID, 11)),
                                      (service, id) -> service.equals("post") ? SchemaRoutes.refused("no") : null,
                                      RoutePlan.EMPTY);
        assertThat(plan.routes()).isEmpty();
        assertThat(plan.refused()).containsExactly(Map.entry("post", 1));
        assertThat(plan.incomplete()).isTrue();

        // two methods on one route refuse the schema
        List<FileDescriptorProto> files = new java.util.ArrayList<>(POST.getFiles().getFileList());
        FileDescriptorProto post = files.get(files.size() - 1);
        files.set(files.size() - 1, post.toBuilder().setService(0, post.getService(0).toBuilder().addMethod(
                MethodDescriptorProto.newBuilder().setName("ListAgain")
                        .setInputType(".switchboard.post.v1.ListPostsRequest")
                        .setOutputType(".switchboard.post.v1.ListPostsResponse")
                        .setOptions(MethodOptions.newBuilder().setExtension(AnnotationsProto.http,
                                                                            HttpRule.newBuilder().setGet("/post").build()))))
                .build());
        ApiSchema twice = POST.toBuilder().setFiles(FileDescriptorSet.newBuilder().addAllFile(files)).build();
        assertThat(SchemaRoutes.read("post", "sha256:t", twice).refusal()).isEqualTo(
                "GET /post is declared by switchboard.post.v1.PostService/ListPosts and "
                + "switchboard.post.v1.PostService/ListAgain");
        // a backend option naming another service
        assertThat(SchemaRoutes.read("another", "sha256:x", POST).refusal())
                .isEqualTo("switchboard.post.v1.PostService declares the backend post but is served by another");
    }

    @Test
    void aFollowerReadsEachSchemaOnceWhileNamedAndKeepsTheRoutesOfServicesGoneOnlyWhenAsked() {
        List<String> reads = new java.util.ArrayList<>();
        java.util.function.BiFunction<String, String, SchemaRoutes> counting = (service, id) -> {
            reads.add(service + " " + id);
            return read(service, id);
        };
        RoutePlan.Follower gateway = new RoutePlan.Follower(counting, true);
        RoutePlan.Follower dashboard = new RoutePlan.Follower(counting, false);
        List<Instance> post = List.of(instance("post", "p-1", POST_ID, 10));
        for (RoutePlan.Follower follower : List.of(gateway, dashboard)) {
            follower.plan(post);
            follower.plan(List.of(instance("post", "p-1", POST_ID, 10), instance("post", "p-2", POST_ID, 11)));
        }
        assertThat(reads).containsExactly("post " + POST_ID, "post " + POST_ID);

        assertThat(gateway.plan(List.of()).routes()).hasSize(5);
        assertThat(dashboard.plan(List.of()).routes()).isEmpty();
        // forgotten once no instance named it: read again when one does
        dashboard.plan(post);
        assertThat(reads).hasSize(3);
    }

    /* What a schema gives: post's API for post, and for "another" post's routes without the backend option. */
    private static SchemaRoutes read(String service, String schemaId) {
        if (service.equals("another")) {
            List<Route> routes = SchemaRoutes.read("post", schemaId, POST).routes().stream()
                    .map(r -> new Route(r.httpMethod(), r.template().replace("{id}", "{name}"), "another", r.method(),
                                        r.requestType(), r.body(), r.auth(), r.successStatus(), r.idempotent(),
                                        r.rateLimited(), r.deadlineMillis(), r.schemas(), r.bodyField(), r.responseBody(),
                                        r.eventIdField(), r.resumeField()))
                    .toList();
            return new SchemaRoutes(routes, null);
        }
        return SchemaRoutes.read(service, schemaId, service.equals("user") ? USER : POST);
    }

    private static Instance instance(String service, String id, String schemaId, long registered) {
        return Instance.newBuilder().setService(service).setId(id).setSchemaId(schemaId).setRegisteredRevision(registered)
                .build();
    }
}
