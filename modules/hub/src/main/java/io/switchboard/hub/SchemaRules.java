package io.switchboard.hub;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.schema.ApiSchemas;

/**
 * What the hub accepts as a published API schema (whose id is {@link ApiSchemas#idOf(byte[])}). Checked before
 * etcd is touched; the first violation is answered with INVALID_ARGUMENT and a message that says what is wrong.
 */
public final class SchemaRules {
    /** Largest schema, bytes: etcd takes values up to 1.5 MiB. */
    public static final int MAX_BYTES = 1024 * 1024;
    /** Most files in a schema (the post service's has 7, with its imports). */
    public static final int MAX_FILES = 500;

    private SchemaRules() {
    }

    /**
     * Checks a schema id.
     *
     * @param id the id
     * @throws StatusRuntimeException INVALID_ARGUMENT
     */
    public static void checkId(String id) {
        if (!ApiSchemas.ID.matcher(id).matches()) {
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
        try {
            ApiSchemas.services(parsed);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
