package io.switchboard.hub;

import java.util.List;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.MethodOptions;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import com.google.protobuf.Descriptors;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.schema.ApiSchemas;

/**
 * API schemas for hub tests: post's, and services made at run time with the GET routes a test needs.
 */
final class TestSchemas {
    private TestSchemas() {
    }

    /** The post service's schema, as the post service publishes it. */
    static ApiSchema post() {
        return ApiSchemas.of(List.of(PostServiceGrpc.getServiceDescriptor()));
    }

    /**
     * A service {@code <pkg>.Api} whose methods M0, M1, ... each take and return {@code <pkg>.Req} (one string field,
     * {@code name}) and declare one GET route.
     *
     * @param pkg       the proto package, which makes the schema distinct
     * @param templates one GET path template per method
     * @return its schema
     */
    static ApiSchema gets(String pkg, String... templates) {
        ServiceDescriptorProto.Builder service = ServiceDescriptorProto.newBuilder().setName("Api");
        for (int i = 0; i < templates.length; i++) {
            service.addMethod(MethodDescriptorProto.newBuilder().setName("M" + i)
                                      .setInputType("." + pkg + ".Req").setOutputType("." + pkg + ".Req")
                                      .setOptions(MethodOptions.newBuilder().setExtension(
                                              AnnotationsProto.http, HttpRule.newBuilder().setGet(templates[i]).build())));
        }
        FileDescriptorProto file = FileDescriptorProto.newBuilder()
                .setName(pkg.replace('.', '/') + "/api.proto")
                .setPackage(pkg)
                .setSyntax("proto3")
                .addDependency(AnnotationsProto.getDescriptor().getName())
                .addMessageType(DescriptorProto.newBuilder().setName("Req").addField(
                        FieldDescriptorProto.newBuilder().setName("name").setNumber(1)
                                .setType(FieldDescriptorProto.Type.TYPE_STRING)
                                .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL)))
                .addService(service)
                .build();
        Descriptors.FileDescriptor built;
        try {
            built = Descriptors.FileDescriptor.buildFrom(file, new Descriptors.FileDescriptor[] {AnnotationsProto.getDescriptor()});
        } catch (Descriptors.DescriptorValidationException e) {
            throw new IllegalStateException(e);
        }
        return ApiSchemas.of(List.of(ServiceDescriptor.newBuilder(pkg + ".Api")
                                             .setSchemaDescriptor(new ProtoServiceDescriptorSupplier() {
                                                 @Override
                                                 public Descriptors.FileDescriptor getFileDescriptor() {
                                                     return built;
                                                 }

                                                 @Override
                                                 public Descriptors.ServiceDescriptor getServiceDescriptor() {
                                                     return built.getServices().get(0);
                                                 }
                                             })
                                             .build()));
    }
}
