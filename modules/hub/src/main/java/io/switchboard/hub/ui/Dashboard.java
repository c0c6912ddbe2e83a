package io.switchboard.hub.ui;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.hub.etcd.EtcdProbe;
import io.switchboard.hub.etcd.EtcdStore.LeaseTtl;
import io.switchboard.hub.view.InstanceView;
import io.switchboard.hub.etcd.InstanceRecord;

/**
 * What the dashboard shows, as JSON: every service with its instances from this replica's view, each lease's TTL
 * and renewal age from etcd, and whether etcd answers. The JSON API returns it and the event stream sends it.
 * Thread safe.
 */
final class Dashboard {
    /** Weight an instance gets when it registers with 0. */
    private static final int DEFAULT_WEIGHT = 100;

    private final InstanceView view;
    private final EtcdProbe probe;
    private final LeaseClock leases;

    Dashboard(InstanceView view, EtcdProbe probe, LeaseClock leases) {
        this.view = view;
        this.probe = probe;
        this.leases = leases;
    }

    /**
     * Every service.
     *
     * @param wait how long to wait for fresh lease readings (zero: use the last ones)
     * @return {@code {generatedAt, etcd, view, serviceCount, instanceCount, services: [...]}}
     */
    JsonObject services(Duration wait) {
        InstanceView.Contents contents = view.contents();
        Map<String, List<InstanceRecord>> byService = byService(contents.entries());
        LeaseClock.Readings readings = leases.read(leaseIds(contents.entries()), wait);
        JsonObject root = status(contents);
        JsonArray services = new JsonArray();
        byService.forEach((name, entries) -> services.add(service(name, entries, readings)));
        root.addProperty("serviceCount", byService.size());
        root.addProperty("instanceCount", contents.entries().size());
        root.add("services", services);
        return root;
    }

    /**
     * One service.
     *
     * @param name a valid service name
     * @param wait how long to wait for fresh lease readings
     * @return {@code {generatedAt, etcd, view, service: {...}}}, empty when the service has no instance
     */
    Optional<JsonObject> service(String name, Duration wait) {
        InstanceView.Contents contents = view.contents();
        List<InstanceRecord> entries = byService(contents.entries()).get(name);
        if (entries == null) {
            return Optional.empty();
        }
        JsonObject root = status(contents);
        root.add("service", service(name, entries, leases.read(leaseIds(entries), wait)));
        return Optional.of(root);
    }

    private JsonObject status(InstanceView.Contents contents) {
        JsonObject root = new JsonObject();
        root.addProperty("generatedAt", Instant.now().toString());
        JsonObject etcd = new JsonObject();
        etcd.addProperty("up", probe.reachable());
        etcd.addProperty("since", probe.since().toString());
        root.add("etcd", etcd);
        JsonObject viewJson = new JsonObject();
        viewJson.addProperty("synced", contents.synced());
        viewJson.addProperty("revision", contents.revision());
        root.add("view", viewJson);
        return root;
    }

    private static JsonObject service(String name, List<InstanceRecord> entries, LeaseClock.Readings readings) {
        JsonArray instances = new JsonArray();
        int healthy = 0;
        for (InstanceRecord entry : entries) {
            JsonObject lease = lease(entry.leaseId(), readings);
            if (lease.get("healthy").getAsBoolean()) {
                healthy++;
            }
            instances.add(instance(entry, lease));
        }
        JsonObject service = new JsonObject();
        service.addProperty("name", name);
        service.addProperty("instanceCount", entries.size());
        service.addProperty("healthyCount", healthy);
        service.add("instances", instances);
        return service;
    }

    private static JsonObject instance(InstanceRecord entry, JsonObject lease) {
        Instance instance = entry.instance();
        JsonObject json = new JsonObject();
        json.addProperty("id", instance.getId());
        json.addProperty("host", instance.getHost());
        json.addProperty("port", instance.getPort());
        json.addProperty("version", instance.getVersion());
        json.addProperty("zone", instance.getZone());
        json.addProperty("weight", instance.getWeight() == 0 ? DEFAULT_WEIGHT : instance.getWeight());
        JsonObject metadata = new JsonObject();
        new java.util.TreeMap<>(instance.getMetadataMap()).forEach(metadata::addProperty);
        json.add("metadata", metadata);
        if (entry.registeredAt() == null) {
            json.add("registeredAt", JsonNull.INSTANCE);
        } else {
            json.addProperty("registeredAt", entry.registeredAt().toString());
        }
        json.add("lease", lease);
        return json;
    }

    /*
     * The registry library renews every TTL/3, so a lease renewed on time is never more than a third of its TTL
     * old; up to two thirds leaves room for one missed renewal and etcd's whole-second rounding.
     */
    private static JsonObject lease(long leaseId, LeaseClock.Readings readings) {
        JsonObject lease = new JsonObject();
        // a hex string: lease ids are 64-bit, beyond what a JavaScript number holds exactly
        lease.addProperty("id", Long.toHexString(leaseId));
        LeaseTtl ttl = readings.ttls().get(leaseId);
        String state;
        if (ttl == null) {
            state = "unknown";
            lease.add("ttlSeconds", JsonNull.INSTANCE);
            lease.add("remainingSeconds", JsonNull.INSTANCE);
            lease.add("sinceRenewalSeconds", JsonNull.INSTANCE);
        } else {
            long since = Math.max(0, ttl.grantedSeconds() - ttl.remainingSeconds());
            state = ttl.remainingSeconds() <= 0 ? "expired" : since * 3 <= ttl.grantedSeconds() * 2 ? "healthy" : "late";
            lease.addProperty("ttlSeconds", ttl.grantedSeconds());
            lease.addProperty("remainingSeconds", Math.max(0, ttl.remainingSeconds()));
            lease.addProperty("sinceRenewalSeconds", ttl.remainingSeconds() <= 0 ? null : since);
        }
        lease.addProperty("readAt", ttl == null ? null : readings.readAt().toString());
        lease.addProperty("state", state);
        lease.addProperty("healthy", state.equals("healthy"));
        return lease;
    }

    private static Map<String, List<InstanceRecord>> byService(List<InstanceRecord> entries) {
        // the view's entries come sorted by service, then instance id
        Map<String, List<InstanceRecord>> byService = new LinkedHashMap<>();
        entries.forEach(e -> byService.computeIfAbsent(e.instance().getService(), s -> new java.util.ArrayList<>()).add(e));
        return byService;
    }

    private static List<Long> leaseIds(List<InstanceRecord> entries) {
        return entries.stream().mapToLong(InstanceRecord::leaseId).filter(id -> id != 0).boxed().distinct().toList();
    }
}
