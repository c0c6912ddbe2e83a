package io.switchboard.post;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import io.grpc.ManagedChannel;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.GetSchemaRequest;
import io.switchboard.api.hub.v1.GetServiceRequest;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.hub.HubServer;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A service publishes the API it serves when it registers: the gateway can learn its routes from the registry.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PostSchemaTest {
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void aRegisteredPostInstanceNamesItsPublishedApiWithItsComments() throws Exception {
        HubServer hub = STACK.start(HubServer.start(STACK.config(Map.of("etcd.endpoints", STACK.etcd().endpoint()))));
        PostServer post = STACK.start(PostServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        ManagedChannel channel = STACK.channel("gateway", "hub", hub.port());
        try {
            HubGrpc.HubBlockingStub stub = HubGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(15)).until(() -> post.runtime().ready());
            List<Instance> instances = stub.getService(GetServiceRequest.newBuilder().setService("post").build())
                    .getInstancesList();
            assertThat(instances).hasSize(1);
            String id = instances.get(0).getSchemaId();
            assertThat(id).startsWith("sha256:");

            ApiSchema schema = ApiSchema.parseFrom(stub.getSchema(GetSchemaRequest.newBuilder().setSchemaId(id).build())
                                                           .getSchema());
            // the services it serves, not the health service the runtime adds
            assertThat(schema.getServicesList()).containsExactly("switchboard.post.v1.PostService");
            List<String> files = schema.getFiles().getFileList().stream().map(FileDescriptorProto::getName).toList();
            assertThat(files).contains("switchboard/post/v1/post.proto", "google/api/annotations.proto")
                    .doesNotContain("switchboard/user/v1/user.proto", "switchboard/hub/v1/hub.proto");
            // imports before the files that import them
            assertThat(files.indexOf("google/api/annotations.proto"))
                    .isLessThan(files.indexOf("switchboard/post/v1/post.proto"));
            FileDescriptorProto postProto = schema.getFiles().getFileList().stream()
                    .filter(f -> f.getName().equals("switchboard/post/v1/post.proto")).findFirst().orElseThrow();
            assertThat(postProto.getSourceCodeInfo().getLocationList())
                    .anyMatch(location -> location.getLeadingComments().contains("NOT_FOUND when no post has that id."));
            assertThat(schema.getFiles().getFileList()).filteredOn(f -> f.getName().startsWith("google/"))
                    .allMatch(f -> !f.hasSourceCodeInfo());
        } finally {
            channel.shutdownNow();
        }
    }
}
