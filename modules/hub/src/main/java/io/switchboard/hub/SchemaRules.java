package io.switchboard.hub;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.switchboard.api.hub.v1.ApiSchema;

/**
 * What the hub accepts as a published API schema, and the schema's id. Checked before etcd is touched; the first
 * violation is answered with INVALID_ARGUMENT and a message that says what is wrong.
 */
public final class SchemaRules {
    /** Largest schema, bytes: etcd takes values up to 1.5 MiB. */
    public static final int MAX_BYTES = 1024 * 1024;
    /** Most files in a schema (the post service's has 7, with its imports). */
    public static final int MAX_FILES = 500;

    private static final String ID_PREFIX = "sha256:";
    private static final Pattern ID = Pattern.compile("sha256:[0-9a-f]{64}");

    private SchemaRules() {
    }

    /**
     * The id of a schema: {@code sha256:} and the hex SHA-256 of its bytes.
     *
     * @param schema the serialized schema
     * @return its id
     */
    public static String idOf(byte[] schema) {
        try {
            return ID_PREFIX + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(schema));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * Checks a schema id.
     *
     * @param id the id
     * @throws StatusRuntimeException INVALID_ARGUMENT
     */
    public static void checkId(String id) {
        if (!ID.matcher(id).matches()) {
            throw invalid("schema_id must be \"sha256:\" and 64 lower-case hex digits, got "
                          + (id.length() > 80 ? id.substring(0, 80) + "..." : id).replaceAll("\\p{Cntrl}", "?"));
        }
    }

    /**
     * Checks that bytes are a schema whose files build: every import is in the set, no file twice, and every
     * service it names is defined by one of its files.
     *
     * @param schema the serialized schema
     * @throws StatusRuntimeException INVALID_ARGUMENT
     */
    public static void checkSchema(byte[] schema) {
        if (schema.length == 0 || schema.length > MAX_BYTES) {
            throw invalid("schema must be 1.." + MAX_BYTES + " bytes, got " + schema.length);
        }
        ApiSchema parsed;
        try {
            parsed = ApiSchema.parseFrom(schema);
        } catch (InvalidProtocolBufferException e) {
            throw invalid("schema is not a serialized switchboard.hub.v1.ApiSchema");
        }
        if (parsed.getServicesCount() == 0) {
            throw invalid("schema names no service");
        }
        if (parsed.getFiles().getFileCount() > MAX_FILES) {
            throw invalid("schema has " + parsed.getFiles().getFileCount() + " files, at most " + MAX_FILES + " allowed");
        }
        Map<String, FileDescriptorProto> files = new HashMap<>();
        for (FileDescriptorProto file : parsed.getFiles().getFileList()) {
            if (files.put(file.getName(), file) != null) {
                throw invalid("schema has the file " + file.getName() + " twice");
            }
        }
        Map<String, Descriptors.FileDescriptor> built = new HashMap<>();
        for (String name : files.keySet()) {
            build(name, files, built, new HashSet<>());
        }
        for (String service : parsed.getServicesList()) {
            boolean defined = built.values().stream().anyMatch(file -> file.getServices().stream()
                    .anyMatch(s -> s.getFullName().equals(service)));
            if (!defined) {
                throw invalid("schema names the service " + service + ", which none of its files defines");
            }
        }
    }

    private static Descriptors.FileDescriptor build(String name, Map<String, FileDescriptorProto> files,
                                                    Map<String, Descriptors.FileDescriptor> built, Set<String> building) {
        Descriptors.FileDescriptor done = built.get(name);
        if (done != null) {
            return done;
        }
        FileDescriptorProto file = files.get(name);
        if (file == null) {
            throw invalid("schema imports " + name + " but does not contain it");
        }
        if (!building.add(name)) {
            throw invalid("schema's imports go round in a circle through " + name);
        }
        Descriptors.FileDescriptor[] dependencies = new Descriptors.FileDescriptor[file.getDependencyCount()];
        for (int i = 0; i < dependencies.length; i++) {
            dependencies[i] = build(file.getDependency(i), files, built, building);
        }
        try {
            Descriptors.FileDescriptor descriptor = Descriptors.FileDescriptor.buildFrom(file, dependencies);
            built.put(name, descriptor);
            return descriptor;
        } catch (Descriptors.DescriptorValidationException e) {
            throw invalid("schema file " + name + " does not build: " + e.getDescription());
        }
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
