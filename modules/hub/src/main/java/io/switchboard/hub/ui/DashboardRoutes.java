package io.switchboard.hub.ui;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.hub.etcd.EtcdStore;
import io.switchboard.hub.etcd.InstanceRecord;
import io.switchboard.hub.view.InstanceView;
import io.switchboard.schema.ApiSchemas;
import io.switchboard.schema.Route;
import io.switchboard.schema.RoutePlan;
import io.switchboard.schema.RoutePlan.SchemaRoutes;

/**
 * The dashboard's Routes view: every HTTP route the live instances' schemas give, the service and gRPC method
 * behind it, the routes that lose a conflict and the schemas refused, settled as every gateway settles them
 * ({@link RoutePlan}). Worked out when asked, from this replica's view; each schema is read from etcd once while an
 * instance names it. Routes a gateway keeps for a service that is down are not shown: the hub shows live instances.
 * Thread safe.
 */
final class DashboardRoutes {
    private final InstanceView view;
    private final EtcdStore store;
    private final RoutePlan.Follower plans = new RoutePlan.Follower((service, schemaId) -> read(service, schemaId)
            .orElse(null), false);

    DashboardRoutes(InstanceView view, EtcdStore store) {
        this.view = view;
        this.store = store;
    }

    /**
     * The routes now.
     *
     * @return {@code {generatedAt, complete, routes: [...], conflicts: [...], refused: [...]}}
     */
    synchronized JsonObject routes() {
        List<Instance> instances = view.contents().entries().stream().map(InstanceRecord::instance).toList();
        RoutePlan plan = plans.plan(instances);

        JsonObject root = new JsonObject();
        root.addProperty("generatedAt", Instant.now().toString());
        // false while a schema could not be read from etcd: its routes are missing
        root.addProperty("complete", !plan.incomplete());
        JsonArray routes = new JsonArray();
        plan.routes().forEach(route -> routes.add(json(route)));
        root.add("routes", routes);
        JsonArray conflicts = new JsonArray();
        for (RoutePlan.Conflict conflict : plan.conflicts()) {
            JsonObject json = json(conflict.loser());
            json.add("winner", json(conflict.winner()));
            conflicts.add(json);
        }
        root.add("conflicts", conflicts);
        JsonArray refused = new JsonArray();
        for (RoutePlan.Refusal refusal : plan.refusals()) {
            JsonObject json = new JsonObject();
            json.addProperty("service", refusal.service());
            json.addProperty("schemaId", refusal.schemaId());
            json.addProperty("reason", refusal.reason());
            refused.add(json);
        }
        root.add("refused", refused);
        return root;
    }

    private Optional<SchemaRoutes> read(String service, String schemaId) {
        Optional<byte[]> bytes;
        try {
            bytes = store.schema(schemaId);
        } catch (RuntimeException e) {
            // etcd does not answer: shown as incomplete, read again on the next request
            return Optional.empty();
        }
        if (bytes.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(SchemaRoutes.read(service, schemaId, ApiSchemas.verified(schemaId, bytes.get())));
        } catch (IllegalArgumentException e) {
            return Optional.of(SchemaRoutes.refused("in etcd, " + e.getMessage()));
        }
    }

    private static JsonObject json(Route route) {
        JsonObject json = new JsonObject();
        json.addProperty("method", route.httpMethod());
        json.addProperty("path", route.template());
        json.addProperty("service", route.backend());
        json.addProperty("rpc", route.method().getFullMethodName());
        json.addProperty("auth", route.auth());
        JsonArray schemas = new JsonArray();
        new ArrayList<>(route.schemas()).stream().sorted().forEach(schemas::add);
        json.add("schemas", schemas);
        return json;
    }
}
