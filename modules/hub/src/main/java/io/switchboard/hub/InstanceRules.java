package io.switchboard.hub;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.switchboard.api.hub.v1.Instance;

/**
 * What the hub accepts. Everything is checked before etcd is touched, and the first violation is answered with
 * INVALID_ARGUMENT and a message that names the field and the rule.
 */
public final class InstanceRules {
    /** Shortest lease TTL, seconds. */
    public static final int MIN_TTL = 2;
    /** Longest lease TTL, seconds. */
    public static final int MAX_TTL = 300;
    /** Most leases renewed by one KeepAlive call. */
    public static final int MAX_LEASES_PER_KEEPALIVE = 1000;

    private static final Pattern SERVICE = Pattern.compile("[a-z0-9-]{1,63}");
    private static final Pattern INSTANCE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:-]{1,253}");
    private static final Pattern METADATA_KEY = Pattern.compile("[A-Za-z0-9._/-]{1,63}");
    private static final int MAX_TEXT = 64;
    private static final int MAX_WEIGHT = 1000;
    private static final int MAX_METADATA_ENTRIES = 32;
    private static final int MAX_METADATA_VALUE = 512;
    private static final int MAX_METADATA_BYTES = 8 * 1024;

    private InstanceRules() {
    }

    /**
     * Checks a service name.
     *
     * @param service the name
     * @throws StatusRuntimeException INVALID_ARGUMENT
     */
    public static void checkService(String service) {
        if (!SERVICE.matcher(service).matches()) {
            throw invalid("service name must match [a-z0-9-]{1,63}, got " + quote(service));
        }
    }

    /**
     * Checks an instance and its TTL for registration.
     *
     * @param instance   the record
     * @param ttlSeconds requested TTL
     * @throws StatusRuntimeException INVALID_ARGUMENT
     */
    public static void checkRegistration(Instance instance, int ttlSeconds) {
        checkService(instance.getService());
        if (!INSTANCE_ID.matcher(instance.getId()).matches()) {
            throw invalid("instance id must match [A-Za-z0-9._:-]{1,128}, got " + quote(instance.getId()));
        }
        if (!HOST.matcher(instance.getHost()).matches()) {
            throw invalid("host must be a host name or IP address of at most 253 characters, got "
                          + quote(instance.getHost()));
        }
        if (instance.getPort() < 1 || instance.getPort() > 65535) {
            throw invalid("port must be in 1..65535, got " + instance.getPort());
        }
        checkText("version", instance.getVersion());
        checkText("zone", instance.getZone());
        if (instance.getWeight() < 0 || instance.getWeight() > MAX_WEIGHT) {
            throw invalid("weight must be in 0.." + MAX_WEIGHT + ", got " + instance.getWeight());
        }
        checkMetadata(instance.getMetadataMap());
        if (!instance.getSchemaId().isEmpty()) {
            SchemaRules.checkId(instance.getSchemaId());
        }
        if (ttlSeconds < MIN_TTL || ttlSeconds > MAX_TTL) {
            throw invalid("ttl_seconds must be in " + MIN_TTL + ".." + MAX_TTL + ", got " + ttlSeconds);
        }
    }

    /**
     * Checks a lease id.
     *
     * @param leaseId the id
     * @throws StatusRuntimeException INVALID_ARGUMENT
     */
    public static void checkLease(long leaseId) {
        if (leaseId <= 0) {
            throw invalid("lease_id must be a positive lease id, got " + leaseId);
        }
    }

    private static void checkMetadata(Map<String, String> metadata) {
        if (metadata.size() > MAX_METADATA_ENTRIES) {
            throw invalid("metadata has " + metadata.size() + " entries, at most " + MAX_METADATA_ENTRIES + " allowed");
        }
        int bytes = 0;
        for (Map.Entry<String, String> entry : metadata.entrySet()) {
            if (!METADATA_KEY.matcher(entry.getKey()).matches()) {
                throw invalid("metadata key must match [A-Za-z0-9._/-]{1,63}, got " + quote(entry.getKey()));
            }
            if (entry.getValue().length() > MAX_METADATA_VALUE) {
                throw invalid("metadata value of " + quote(entry.getKey()) + " is longer than " + MAX_METADATA_VALUE
                              + " characters");
            }
            bytes += entry.getKey().length() + entry.getValue().getBytes(StandardCharsets.UTF_8).length;
        }
        if (bytes > MAX_METADATA_BYTES) {
            throw invalid("metadata is " + bytes + " bytes, at most " + MAX_METADATA_BYTES + " allowed");
        }
    }

    private static void checkText(String field, String value) {
        if (value.length() > MAX_TEXT) {
            throw invalid(field + " must be at most " + MAX_TEXT + " characters");
        }
        if (value.chars().anyMatch(Character::isISOControl)) {
            throw invalid(field + " must not contain control characters");
        }
    }

    private static String quote(String value) {
        String shown = value.length() > 80 ? value.substring(0, 80) + "..." : value;
        return "\"" + shown.replaceAll("\\p{Cntrl}", "?") + "\"";
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
