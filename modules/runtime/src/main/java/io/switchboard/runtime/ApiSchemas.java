package io.switchboard.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors;
import io.grpc.BindableService;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import io.switchboard.api.hub.v1.ApiSchema;

/**
 * The API a service publishes when it registers: the gRPC services it serves and the files that define them, with
 * everything they import. Files come from the descriptor set the api module writes at build time
 * ({@value #DESCRIPTORS}), which keeps the proto comments, so that API documentation can show them; a file not in
 * it (a service defined outside the api module) comes from its generated code, without comments. Comments of
 * google/ files are dropped: they are large and document protobuf, not the service.
 */
final class ApiSchemas {
    /** The descriptor set with source info that the api module puts in its jar. */
    static final String DESCRIPTORS = "META-INF/switchboard/descriptors.pb";

    private ApiSchemas() {
    }

    /**
     * The schema of the given services.
     *
     * @param services the gRPC services an instance serves (protobuf services; others are left out)
     * @return the schema, with files in dependency order (imports first)
     */
    static ApiSchema of(List<BindableService> services) {
        Map<String, FileDescriptorProto> withComments = commented();
        ApiSchema.Builder schema = ApiSchema.newBuilder();
        Map<String, FileDescriptorProto> files = new LinkedHashMap<>();
        for (BindableService service : services) {
            if (service.bindService().getServiceDescriptor().getSchemaDescriptor()
                    instanceof ProtoServiceDescriptorSupplier supplier) {
                schema.addServices(supplier.getServiceDescriptor().getFullName());
                add(supplier.getFileDescriptor(), withComments, files);
            }
        }
        return schema.setFiles(FileDescriptorSet.newBuilder().addAllFile(files.values())).build();
    }

    private static void add(Descriptors.FileDescriptor file, Map<String, FileDescriptorProto> withComments,
                            Map<String, FileDescriptorProto> files) {
        if (files.containsKey(file.getName())) {
            return;
        }
        for (Descriptors.FileDescriptor dependency : file.getDependencies()) {
            add(dependency, withComments, files);
        }
        FileDescriptorProto proto = withComments.getOrDefault(file.getName(), file.toProto());
        files.put(file.getName(), file.getName().startsWith("google/") ? proto.toBuilder().clearSourceCodeInfo().build()
                                                                       : proto);
    }

    private static Map<String, FileDescriptorProto> commented() {
        Map<String, FileDescriptorProto> files = new HashMap<>();
        try (InputStream in = ApiSchema.class.getClassLoader().getResourceAsStream(DESCRIPTORS)) {
            if (in != null) {
                FileDescriptorSet.parseFrom(in).getFileList().forEach(file -> files.put(file.getName(), file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + DESCRIPTORS, e);
        }
        return files;
    }
}
