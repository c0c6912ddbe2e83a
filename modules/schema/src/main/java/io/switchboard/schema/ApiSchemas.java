package io.switchboard.schema;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.google.api.AnnotationsProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors;
import com.google.protobuf.ExtensionRegistry;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import io.switchboard.api.gateway.v1.RouteProto;
import io.switchboard.api.hub.v1.ApiSchema;

/**
 * The API a service publishes when it registers: the gRPC services it serves and the files that define them, with
 * everything they import. A service makes it from its generated code ({@link #of(List)}), the hub names it by its
 * content ({@link #idOf(byte[])}), and a gateway reads it back into descriptors whose options carry the
 * {@code google.api.http} and {@code switchboard.gateway.v1} extensions ({@link #services(ApiSchema)}).
 * <p>
 * Files come from the descriptor set the api module writes at build time ({@value #DESCRIPTORS}), which keeps the
 * proto comments, so that API documentation can show them; a file not in it (a service defined outside the api
 * module) comes from its generated code, without comments. Comments of google/ files are dropped: they are large
 * and document protobuf, not the service.
 */
public final class ApiSchemas {
    /** The descriptor set with source info that the api module puts in its jar. */
    public static final String DESCRIPTORS = "META-INF/switchboard/descriptors.pb";
    /** The form of a schema id. */
    public static final Pattern ID = Pattern.compile("sha256:[0-9a-f]{64}");

    private static final ExtensionRegistry OPTIONS = ExtensionRegistry.newInstance();

    static {
        AnnotationsProto.registerAllExtensions(OPTIONS);
        RouteProto.registerAllExtensions(OPTIONS);
    }

    private ApiSchemas() {
    }

    /**
     * The schema of the given gRPC services.
     *
     * @param services the services an instance serves (protobuf services; others are left out)
     * @return the schema, with files in dependency order (imports first)
     */
    public static ApiSchema of(List<ServiceDescriptor> services) {
        Map<String, FileDescriptorProto> withComments = commented();
        ApiSchema.Builder schema = ApiSchema.newBuilder();
        Map<String, FileDescriptorProto> files = new LinkedHashMap<>();
        for (ServiceDescriptor service : services) {
            if (service.getSchemaDescriptor() instanceof ProtoServiceDescriptorSupplier supplier) {
                schema.addServices(supplier.getServiceDescriptor().getFullName());
                add(supplier.getFileDescriptor(), withComments, files);
            }
        }
        return schema.setFiles(FileDescriptorSet.newBuilder().addAllFile(files.values())).build();
    }

    /**
     * The id of a schema: {@code sha256:} and the hex SHA-256 of its bytes.
     *
     * @param schema the serialized schema
     * @return its id
     */
    public static String idOf(byte[] schema) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(schema));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * A schema read from bytes that should be the one an id names.
     *
     * @param schemaId the id the bytes were stored or sent under
     * @param bytes    the bytes
     * @return the schema
     * @throws IllegalArgumentException when the bytes are not the ones the id names, or not a schema
     */
    public static ApiSchema verified(String schemaId, byte[] bytes) {
        if (!idOf(bytes).equals(schemaId)) {
            throw new IllegalArgumentException("the schema " + schemaId + " is not the one its id names");
        }
        try {
            return ApiSchema.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("the schema " + schemaId + " is not an ApiSchema");
        }
    }

    /**
     * Builds a schema's files and finds the services it names, with the options of their methods and services read
     * with the HTTP rule and route extensions.
     *
     * @param schema a schema
     * @return the named services by full name, in the schema's order
     * @throws IllegalArgumentException when its files do not build (an import missing from the set, a file twice,
     *                                  imports in a circle, a file protobuf refuses) or a service it names is not
     *                                  defined by any of them; the message says which
     */
    public static Map<String, Descriptors.ServiceDescriptor> services(ApiSchema schema) {
        Map<String, FileDescriptorProto> files = new HashMap<>();
        for (FileDescriptorProto file : schema.getFiles().getFileList()) {
            if (files.put(file.getName(), file) != null) {
                throw new IllegalArgumentException("schema has the file " + file.getName() + " twice");
            }
        }
        Map<String, Descriptors.FileDescriptor> built = new HashMap<>();
        for (String name : files.keySet()) {
            build(name, files, built, new HashSet<>());
        }
        Map<String, Descriptors.ServiceDescriptor> services = new LinkedHashMap<>();
        for (String name : schema.getServicesList()) {
            Descriptors.ServiceDescriptor service = built.values().stream()
                    .flatMap(file -> file.getServices().stream())
                    .filter(s -> s.getFullName().equals(name))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("schema names the service " + name
                                                                    + ", which none of its files defines"));
            services.put(name, service);
        }
        return services;
    }

    private static Descriptors.FileDescriptor build(String name, Map<String, FileDescriptorProto> files,
                                                    Map<String, Descriptors.FileDescriptor> built, Set<String> building) {
        Descriptors.FileDescriptor done = built.get(name);
        if (done != null) {
            return done;
        }
        FileDescriptorProto file = files.get(name);
        if (file == null) {
            throw new IllegalArgumentException("schema imports " + name + " but does not contain it");
        }
        if (!building.add(name)) {
            throw new IllegalArgumentException("schema's imports go round in a circle through " + name);
        }
        Descriptors.FileDescriptor[] dependencies = new Descriptors.FileDescriptor[file.getDependencyCount()];
        for (int i = 0; i < dependencies.length; i++) {
            dependencies[i] = build(file.getDependency(i), files, built, building);
        }
        try {
            // parsed again with the extensions, so that options carry the HTTP rules as fields, not unknown bytes
            FileDescriptorProto withOptions = FileDescriptorProto.parseFrom(file.toByteString(), OPTIONS);
            Descriptors.FileDescriptor descriptor = Descriptors.FileDescriptor.buildFrom(withOptions, dependencies);
            built.put(name, descriptor);
            return descriptor;
        } catch (Descriptors.DescriptorValidationException e) {
            throw new IllegalArgumentException("schema file " + name + " does not build: " + e.getDescription());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("schema file " + name + " has options that do not parse");
        }
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

    /* every descriptor set on the class path: the api jar's, and a service module's own when it has its protos */
    private static Map<String, FileDescriptorProto> commented() {
        Map<String, FileDescriptorProto> files = new HashMap<>();
        try {
            Enumeration<URL> sets = ApiSchema.class.getClassLoader().getResources(DESCRIPTORS);
            while (sets.hasMoreElements()) {
                try (InputStream in = sets.nextElement().openStream()) {
                    FileDescriptorSet.parseFrom(in).getFileList().forEach(file -> files.putIfAbsent(file.getName(), file));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + DESCRIPTORS, e);
        }
        return files;
    }
}
