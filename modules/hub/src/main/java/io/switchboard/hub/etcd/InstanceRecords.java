package io.switchboard.hub.etcd;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.switchboard.api.hub.v1.Instance;

/**
 * How an instance record is stored in etcd: the key {@code /switchboard/services/<service>/<id>} and the
 * instance as compact JSON, so that operators can read it with {@code etcdctl get --prefix /switchboard/}.
 * <p>
 * Beside the {@link Instance} fields the JSON carries {@value #REGISTERED_AT}, the time the hub wrote it (ISO-8601).
 * It is not part of the gRPC contract: readers ignore fields they do not know, so records written before it
 * existed still parse (with no registration time), and older hubs read newer records. The instance's
 * {@code registered_revision} is not stored: it is the revision at which etcd created the key.
 */
final class InstanceRecords {
    /** Root of all instance records: {@code /switchboard/services/<service>/<instance-id>}. */
    static final String PREFIX = "/switchboard/services/";

    private static final System.Logger LOG = System.getLogger(InstanceRecords.class.getName());
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
    private static final String REGISTERED_AT = "registeredAt";

    private InstanceRecords() {
    }

    /**
     * The key of one instance.
     *
     * @param service service name
     * @param id      instance id
     * @return the etcd key
     */
    static String key(String service, String id) {
        return PREFIX + service + "/" + id;
    }

    /**
     * The key prefix of every instance of a service.
     *
     * @param service service name
     * @return the prefix, ending with a slash
     */
    static String servicePrefix(String service) {
        return PREFIX + service + "/";
    }

    /**
     * The stored form of an instance.
     *
     * @param instance     a validated instance
     * @param registeredAt when the hub registered it
     * @return JSON bytes
     */
    static byte[] encode(Instance instance, Instant registeredAt) {
        String json;
        try {
            json = PRINTER.print(instance.toBuilder().clearRegisteredRevision());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print an instance", e);
        }
        // the printer always writes one object, and an ISO instant needs no escaping: append the field before '}'
        String field = "\"" + REGISTERED_AT + "\":\"" + registeredAt + "\"}";
        String record = json.equals("{}") ? "{" + field : json.substring(0, json.length() - 1) + "," + field;
        return record.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Reads a stored record. A record that someone else wrote under our prefix and that does not parse is skipped
     * with one log line rather than breaking the view; service and id always come from the key.
     *
     * @param key      etcd key
     * @param value    stored bytes
     * @param leaseId  the lease etcd has the key attached to
     * @param created  the revision that created the key: the instance's {@code registered_revision}
     * @return the record, empty when the key or value is not ours
     */
    static Optional<InstanceRecord> read(String key, byte[] value, long leaseId, long created) {
        Optional<InstanceId> id = idOf(key);
        if (id.isEmpty()) {
            return Optional.empty();
        }
        try {
            String json = new String(value, StandardCharsets.UTF_8);
            Instance.Builder builder = Instance.newBuilder();
            PARSER.merge(json, builder);
            Instance instance = builder.setService(id.get().service()).setId(id.get().id())
                    .setRegisteredRevision(created).build();
            return Optional.of(new InstanceRecord(instance, leaseId, registeredAt(json)));
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            LOG.log(Level.WARNING, "skipping unreadable record at " + key + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    private static Instant registeredAt(String json) {
        JsonElement field = JsonParser.parseString(json).getAsJsonObject().get(REGISTERED_AT);
        if (field == null || !field.isJsonPrimitive()) {
            return null;
        }
        try {
            return Instant.parse(field.getAsString());
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /**
     * Service and instance id of a key.
     *
     * @param key etcd key
     * @return the id, empty when the key is not an instance record
     */
    static Optional<InstanceId> idOf(String key) {
        if (!key.startsWith(PREFIX)) {
            return Optional.empty();
        }
        String rest = key.substring(PREFIX.length());
        int slash = rest.indexOf('/');
        if (slash <= 0 || slash == rest.length() - 1) {
            return Optional.empty();
        }
        return Optional.of(new InstanceId(rest.substring(0, slash), rest.substring(slash + 1)));
    }

    /**
     * Identity of an instance record.
     *
     * @param service service name
     * @param id      instance id
     */
    record InstanceId(String service, String id) {
    }
}
