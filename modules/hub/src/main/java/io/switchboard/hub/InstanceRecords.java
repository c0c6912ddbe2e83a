package io.switchboard.hub;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.hub.etcd.EtcdStore;

/**
 * How an instance record is stored in etcd: the key {@code /switchboard/services/<service>/<id>} and the
 * instance as compact JSON, so that operators can read it with {@code etcdctl get --prefix /switchboard/}.
 */
public final class InstanceRecords {
    private static final System.Logger LOG = System.getLogger(InstanceRecords.class.getName());
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().omittingInsignificantWhitespace();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

    private InstanceRecords() {
    }

    /**
     * The key of one instance.
     *
     * @param service service name
     * @param id      instance id
     * @return the etcd key
     */
    public static String key(String service, String id) {
        return EtcdStore.PREFIX + service + "/" + id;
    }

    /**
     * The key prefix of every instance of a service.
     *
     * @param service service name
     * @return the prefix, ending with a slash
     */
    public static String servicePrefix(String service) {
        return EtcdStore.PREFIX + service + "/";
    }

    /**
     * The stored form of an instance.
     *
     * @param instance a validated instance
     * @return JSON bytes
     */
    public static byte[] encode(Instance instance) {
        try {
            return PRINTER.print(instance).getBytes(StandardCharsets.UTF_8);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print an instance", e);
        }
    }

    /**
     * Reads a stored record. A record that someone else wrote under our prefix and that does not parse is skipped
     * with one log line rather than breaking the view; service and id always come from the key.
     *
     * @param key   etcd key
     * @param value stored bytes
     * @return the instance, empty when the key or value is not ours
     */
    public static Optional<Instance> parse(String key, byte[] value) {
        Optional<InstanceId> id = idOf(key);
        if (id.isEmpty()) {
            return Optional.empty();
        }
        try {
            Instance.Builder builder = Instance.newBuilder();
            PARSER.merge(new String(value, StandardCharsets.UTF_8), builder);
            return Optional.of(builder.setService(id.get().service()).setId(id.get().id()).build());
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            LOG.log(Level.WARNING, "skipping unreadable record at " + key + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Service and instance id of a key.
     *
     * @param key etcd key
     * @return the id, empty when the key is not an instance record
     */
    public static Optional<InstanceId> idOf(String key) {
        if (!key.startsWith(EtcdStore.PREFIX)) {
            return Optional.empty();
        }
        String rest = key.substring(EtcdStore.PREFIX.length());
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
    public record InstanceId(String service, String id) {
    }
}
