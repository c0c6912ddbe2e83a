package io.switchboard.schema;

import java.util.List;
import java.util.Map;

import com.google.api.AnnotationsProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors;
import io.switchboard.api.gateway.v1.RouteProto;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.UserServiceGrpc;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApiSchemasUnitTest {
    private static final ApiSchema POST = ApiSchemas.of(List.of(PostServiceGrpc.getServiceDescriptor()));

    @Test
    void aSchemaReadBackCarriesItsHttpRulesAndComments() {
        // read back from bytes, as the gateway gets it from the hub: the options were unknown fields until read
        Map<String, Descriptors.ServiceDescriptor> services = ApiSchemas.services(POST);

        Descriptors.ServiceDescriptor post = services.get("switchboard.post.v1.PostService");
        assertThat(services).containsOnlyKeys("switchboard.post.v1.PostService");
        assertThat(post.getOptions().getExtension(RouteProto.backend)).isEqualTo("post");
        assertThat(post.findMethodByName("GetPost").getOptions().getExtension(AnnotationsProto.http).getGet())
                .isEqualTo("/post/{id}");
        assertThat(post.findMethodByName("CreatePost").getOptions().getExtension(RouteProto.route).getSuccessStatus())
                .isEqualTo(201);
        // imports first, and the comments of our own files kept for API documentation
        List<String> files = POST.getFiles().getFileList().stream().map(FileDescriptorProto::getName).toList();
        assertThat(files.indexOf("google/api/http.proto")).isLessThan(files.indexOf("switchboard/post/v1/post.proto"));
        assertThat(POST.getFiles().getFileList().get(files.indexOf("switchboard/post/v1/post.proto")).hasSourceCodeInfo())
                .isTrue();
    }

    @Test
    void theIdIsTheContentsHash() {
        byte[] bytes = POST.toByteArray();
        assertThat(ApiSchemas.idOf(bytes)).matches(ApiSchemas.ID).isEqualTo(ApiSchemas.idOf(bytes.clone()));
        ApiSchema both = ApiSchemas.of(List.of(PostServiceGrpc.getServiceDescriptor(), UserServiceGrpc.getServiceDescriptor()));
        assertThat(ApiSchemas.idOf(both.toByteArray())).isNotEqualTo(ApiSchemas.idOf(bytes));
    }

    @Test
    void aSchemaThatDoesNotBuildIsRefusedWithItsReason() {
        List<FileDescriptorProto> files = POST.getFiles().getFileList();
        ApiSchema noImports = POST.toBuilder()
                .setFiles(FileDescriptorSet.newBuilder().addFile(files.get(files.size() - 1))).build();
        assertThatThrownBy(() -> ApiSchemas.services(noImports))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("schema imports ").hasMessageEndingWith(" but does not contain it");

        ApiSchema twice = POST.toBuilder().setFiles(POST.getFiles().toBuilder().addFile(files.get(0))).build();
        assertThatThrownBy(() -> ApiSchemas.services(twice)).hasMessage("schema has the file " + files.get(0).getName() + " twice");

        ApiSchema elsewhere = POST.toBuilder().addServices("switchboard.user.v1.UserService").build();
        assertThatThrownBy(() -> ApiSchemas.services(elsewhere))
                .hasMessage("schema names the service switchboard.user.v1.UserService, which none of its files defines");

        FileDescriptorProto last = files.get(files.size() - 1);
        ApiSchema broken = POST.toBuilder().setFiles(POST.getFiles().toBuilder().setFile(
                files.size() - 1, last.toBuilder().setMessageType(0, last.getMessageType(0).toBuilder()
                        .setField(0, last.getMessageType(0).getField(0).toBuilder()
                                .setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(".no.Such"))))).build();
        assertThatThrownBy(() -> ApiSchemas.services(broken))
                .hasMessageStartingWith("schema file switchboard/post/v1/post.proto does not build: ");
    }
}
