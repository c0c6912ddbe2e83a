package io.switchboard.hub;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.DescriptorProtos.SourceCodeInfo;
import com.google.protobuf.Descriptors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.GetSchemaRequest;
import io.switchboard.api.hub.v1.GetServiceRequest;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.PublishSchemaRequest;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.api.post.v1.PostProto;
import io.switchboard.schema.ApiSchemas;
import io.switchboard.testkit.Stack;
import io.switchboard.testkit.TlsChannels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HubSchemaTest {
    @RegisterExtension
    static final Stack STACK = new Stack();
    private static ManagedChannel channel;

    @BeforeAll
    static void start() {
        HubServer hub = STACK.start(HubServer.start(STACK.config(Map.of("etcd.endpoints", STACK.etcd().endpoint()))));
        channel = STACK.channel("schemas", "hub", hub.port());
    }

    @AfterAll
    static void stop() {
        channel.shutdownNow();
    }

    @Test
    void aSchemaIsStoredOnceByContentAndOutlivesTheHubThatStoredIt() {
        ByteString schema = postSchema().toByteString();
        String id = stub().publishSchema(PublishSchemaRequest.newBuilder().setSchema(schema).build()).getSchemaId();

        assertThat(id).isEqualTo(ApiSchemas.idOf(schema.toByteArray())).matches("sha256:[0-9a-f]{64}");
        assertThat(stub().publishSchema(PublishSchemaRequest.newBuilder().setSchema(schema).build()).getSchemaId())
                .isEqualTo(id);
        assertThat(stub().getSchema(GetSchemaRequest.newBuilder().setSchemaId(id).build()).getSchema()).isEqualTo(schema);

        // another replica, started after the first one stored it, serves it from etcd
        try (HubServer other = HubServer.start(STACK.config(Map.of("etcd.endpoints", STACK.etcd().endpoint())))) {
            ManagedChannel otherChannel = TlsChannels.to(STACK.identity("schemas"), "hub", "127.0.0.1", other.port());
            try {
                assertThat(HubGrpc.newBlockingStub(otherChannel).withDeadlineAfter(10, TimeUnit.SECONDS)
                                   .getSchema(GetSchemaRequest.newBuilder().setSchemaId(id).build()).getSchema())
                        .isEqualTo(schema);
            } finally {
                otherChannel.shutdownNow();
            }
        }
    }

    @Test
    void anInstanceRegistersOnlyWithASchemaTheHubHasAndItsRecordNamesIt() {
        String unpublished = ApiSchemas.idOf(new byte[] {1, 2, 3});
        assertStatus(() -> stub().register(register("schema-1", unpublished)), Status.Code.FAILED_PRECONDITION,
                     "PublishSchema first");

        String id = stub().publishSchema(PublishSchemaRequest.newBuilder().setSchema(postSchema().toByteString()).build())
                .getSchemaId();
        assertThat(stub().register(register("schema-1", id)).getLeaseId()).isPositive();
        assertThat(stub().getService(GetServiceRequest.newBuilder().setService("schemas").build()).getInstancesList())
                .extracting(Instance::getSchemaId).containsExactly(id);
        assertStatus(() -> stub().register(register("schema-2", "sha256:XYZ")), Status.Code.INVALID_ARGUMENT, "schema_id");
    }

    @Test
    void aSchemaThatDoesNotBuildIsRefusedWithTheReason() {
        ApiSchema post = postSchema();
        FileDescriptorSet withoutImports = FileDescriptorSet.newBuilder()
                .addFile(post.getFiles().getFileList().get(post.getFiles().getFileCount() - 1)).build();

        assertRefused(ByteString.EMPTY, "schema must be 1..");
        assertRefused(ByteString.copyFromUtf8("{\"not\":\"protobuf\"}"), "not a serialized");
        assertRefused(post.toBuilder().setFiles(withoutImports).build().toByteString(), "does not contain it");
        assertRefused(post.toBuilder().clearServices().build().toByteString(), "names no service");
        assertRefused(post.toBuilder().addServices("switchboard.post.v1.NoSuchService").build().toByteString(),
                      "none of its files defines");
        assertRefused(post.toBuilder().setFiles(post.getFiles().toBuilder().addFile(post.getFiles().getFile(0))).build()
                              .toByteString(), "twice");
        assertStatus(() -> stub().getSchema(GetSchemaRequest.newBuilder().setSchemaId("sha256:" + "0".repeat(64)).build()),
                     Status.Code.NOT_FOUND, "no schema");
        assertStatus(() -> stub().getSchema(GetSchemaRequest.newBuilder().setSchemaId("md5:abc").build()),
                     Status.Code.INVALID_ARGUMENT, "schema_id");
    }

    @Test
    void aSchemaOfExactlyOneMebibyteIsStoredAndOneByteMoreIsRefused() {
        ApiSchema atLimit = padded(postSchema(), SchemaRules.MAX_BYTES);
        assertThat(atLimit.getSerializedSize()).isEqualTo(SchemaRules.MAX_BYTES);
        String id = stub().publishSchema(PublishSchemaRequest.newBuilder().setSchema(atLimit.toByteString()).build())
                .getSchemaId();
        assertThat(stub().getSchema(GetSchemaRequest.newBuilder().setSchemaId(id).build()).getSchema().size())
                .isEqualTo(SchemaRules.MAX_BYTES);

        ApiSchema over = padded(postSchema(), SchemaRules.MAX_BYTES + 1);
        assertThat(over.getSerializedSize()).isEqualTo(SchemaRules.MAX_BYTES + 1);
        assertRefused(over.toByteString(), "schema must be 1..1048576 bytes, got 1048577");
    }

    private static HubGrpc.HubBlockingStub stub() {
        return HubGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static RegisterRequest register(String id, String schemaId) {
        return RegisterRequest.newBuilder()
                .setInstance(Instance.newBuilder().setService("schemas").setId(id).setHost("127.0.0.1").setPort(9001)
                                     .setSchemaId(schemaId))
                .setTtlSeconds(10)
                .build();
    }

    /* The post service's API as a service publishes it: its file and every import, imports first. */
    private static ApiSchema postSchema() {
        Map<String, FileDescriptorProto> files = new LinkedHashMap<>();
        add(PostProto.getDescriptor(), files);
        return ApiSchema.newBuilder()
                .addServices("switchboard.post.v1.PostService")
                .setFiles(FileDescriptorSet.newBuilder().addAllFile(files.values()))
                .build();
    }

    private static void add(Descriptors.FileDescriptor file, Map<String, FileDescriptorProto> files) {
        if (!files.containsKey(file.getName())) {
            file.getDependencies().forEach(dependency -> add(dependency, files));
            files.put(file.getName(), file.toProto());
        }
    }

    /* The schema with a comment on its last file long enough to make it exactly `size` bytes. */
    private static ApiSchema padded(ApiSchema schema, int size) {
        int last = schema.getFiles().getFileCount() - 1;
        for (int comment = size - schema.getSerializedSize(); comment > 0; comment--) {
            FileDescriptorProto file = schema.getFiles().getFile(last).toBuilder()
                    .setSourceCodeInfo(SourceCodeInfo.newBuilder().addLocation(
                            SourceCodeInfo.Location.newBuilder().setLeadingComments("x".repeat(comment))))
                    .build();
            ApiSchema candidate = schema.toBuilder().setFiles(schema.getFiles().toBuilder().setFile(last, file)).build();
            if (candidate.getSerializedSize() == size) {
                return candidate;
            }
            if (candidate.getSerializedSize() < size) {
                break;
            }
        }
        throw new IllegalStateException("cannot pad the schema to " + size + " bytes");
    }

    private static void assertRefused(ByteString schema, String reason) {
        assertStatus(() -> stub().publishSchema(PublishSchemaRequest.newBuilder().setSchema(schema).build()),
                     Status.Code.INVALID_ARGUMENT, reason);
    }

    private static void assertStatus(Runnable call, Status.Code code, String description) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(description);
        });
    }
}
