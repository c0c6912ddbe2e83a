package io.switchboard.gateway;

import java.lang.System.Logger.Level;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Tag;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.gateway.routes.RouteTable;
import io.switchboard.gateway.upstream.Upstreams;
import io.switchboard.registry.Discovery;
import io.switchboard.registry.ServiceEndpoints;
import io.switchboard.schema.RoutePlan;
import io.switchboard.schema.RoutePlan.SchemaRoutes;

/**
 * The gateway's routes, learned live from the registry: on every change of the instances, a new {@link RoutePlan}
 * (which settles versions side by side, services that are gone, conflicts and refused schemas) and a new table,
 * swapped in whole. Each distinct schema is fetched through the hub and read once. A conflict or a refused schema is
 * logged once and counted in {@code switchboard_gateway_route_conflicts{service}} and
 * {@code switchboard_gateway_refused_schemas{service}}. Tables are built on one thread; readers take the current one
 * without locking. Thread safe.
 */
final class LiveRoutes implements Supplier<RouteTable>, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LiveRoutes.class.getName());
    private static final long RETRY_MILLIS = 1000;

    private final Discovery discovery;
    private final Upstreams upstreams;
    private final MeterRegistry meters;
    private final ServiceEndpoints all;
    private final AutoCloseable subscription;
    private final ScheduledExecutorService builder = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("gateway-routes").daemon().factory());
    private final AtomicBoolean pending = new AtomicBoolean();
    private volatile RouteTable table;
    private volatile Counts counts = new Counts(Map.of(), Map.of(), Map.of());
    /* the rest is touched by the builder thread only */
    private final RoutePlan.Follower plans = new RoutePlan.Follower(this::read, true);
    private final Set<String> unfetched = new HashSet<>();
    private final Set<String> gauged = new HashSet<>();
    private Set<String> conflicts = Set.of();
    private Map<String, String> described = Map.of();

    private LiveRoutes(Discovery discovery, Upstreams upstreams, MeterRegistry meters) {
        this.discovery = discovery;
        this.upstreams = upstreams;
        this.meters = meters;
        this.all = discovery.allServices();
        meters.getOrCreate(Gauge.builder("switchboard.gateway.routes", this, r -> r.table == null ? 0 : r.table.routes().size())
                                   .description("HTTP routes the gateway serves"));
        this.subscription = all.subscribe(instances -> rebuild());
    }

    /**
     * Follows the registry from now on; the first table comes once the hub has sent every instance.
     *
     * @param discovery discovery
     * @param upstreams the channels each new table's routes call
     * @param meters    where the gauges go
     * @return the routes
     */
    static LiveRoutes follow(Discovery discovery, Upstreams upstreams, MeterRegistry meters) {
        return new LiveRoutes(discovery, upstreams, meters);
    }

    /**
     * The current table.
     *
     * @return the table, null until the hub has sent every instance and their schemas were read
     */
    @Override
    public RouteTable get() {
        return table;
    }

    @Override
    public void close() {
        try {
            subscription.close();
        } catch (Exception e) {
            // a subscription closes without failing
        }
        builder.shutdownNow();
    }

    private void rebuild() {
        if (pending.compareAndSet(false, true)) {
            builder.execute(this::build);
        }
    }

    private void build() {
        pending.set(false);
        if (!all.synced()) {
            return;
        }
        try {
            if (swap(all.instances()).incomplete()) {
                builder.schedule(this::rebuild, RETRY_MILLIS, TimeUnit.MILLISECONDS);
            }
        } catch (RuntimeException e) {
            // a bug: keep the table that serves, log, try again
            LOG.log(Level.ERROR, "cannot build the route table; keeping the current one: " + e, e);
            builder.schedule(this::rebuild, RETRY_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private RoutePlan swap(List<Instance> instances) {
        RoutePlan plan = plans.plan(instances);
        unfetched.retainAll(instances.stream().map(Instance::getSchemaId).collect(Collectors.toSet()));
        // each conflict once while it lasts (again if it ends and comes back)
        Set<String> now = new HashSet<>();
        plan.conflicts().forEach(conflict -> now.add(conflict.toString()));
        now.stream().filter(conflict -> !conflicts.contains(conflict)).sorted().forEach(c -> LOG.log(Level.WARNING, c));
        conflicts = now;
        RouteTable next = RouteTable.of(plan.routes(), plan.unavailable());
        upstreams.use(next);
        table = next;
        Map<String, Integer> live = new TreeMap<>();
        instances.forEach(instance -> live.merge(instance.getService(), 1, Integer::sum));
        Map<String, Integer> conflicts = new TreeMap<>();
        plan.conflicts().forEach(conflict -> conflicts.merge(conflict.loser().backend(), 1, Integer::sum));
        counts = new Counts(live, conflicts, plan.refused());
        report(next, live.keySet());
        return plan;
    }

    /* What one schema of a service gives, null when it cannot be fetched just now. */
    private SchemaRoutes read(String service, String schemaId) {
        String name = service + " (schema " + schemaId.substring(0, Math.min(schemaId.length(), 19)) + "...)";
        ApiSchema schema;
        try {
            schema = discovery.schema(schemaId);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.DATA_LOSS) {
                return refuse(name, SchemaRoutes.refused(e.getStatus().getDescription()));
            }
            // NOT_FOUND too: a schema etcd lost is published again by the instances that serve it
            if (unfetched.add(schemaId)) {
                LOG.log(Level.WARNING, "cannot fetch the API of " + name + " from the hub (" + e.getStatus().getCode()
                                       + "); its instances get no calls until it is read, trying every second");
            }
            return null;
        }
        unfetched.remove(schemaId);
        return refuse(name, SchemaRoutes.read(service, schemaId, schema));
    }

    private static SchemaRoutes refuse(String name, SchemaRoutes routes) {
        if (routes.refusal() != null) {
            LOG.log(Level.WARNING, "refusing the API of " + name + ": " + routes.refusal()
                                   + "; its instances get no calls through the gateway, other routes are unchanged");
        }
        return routes;
    }

    /* One log line when the routes change, and the gauges of services seen for the first time. */
    private void report(RouteTable next, Set<String> services) {
        Map<String, String> now = new TreeMap<>();
        next.routes().forEach(r -> now.put(r.httpMethod() + " " + r.template(), r.describe()));
        if (!now.equals(described)) {
            LOG.log(Level.INFO, "route table: " + now.size() + " routes of " + next.backends().size() + " services");
            now.forEach((route, target) -> LOG.log(Level.DEBUG, "route " + route + " -> " + target));
            described = now;
        }
        for (String service : services) {
            if (gauged.add(service)) {
                List<Tag> tags = List.of(Tag.create("service", service));
                meters.getOrCreate(Gauge.builder("switchboard.gateway.instances", this,
                                                 r -> r.counts.live.getOrDefault(service, 0))
                                           .description("Live instances the gateway knows, per service").tags(tags));
                meters.getOrCreate(Gauge.builder("switchboard.gateway.route.conflicts", this,
                                                 r -> r.counts.conflicts.getOrDefault(service, 0))
                                           .description("Routes of the service not served because another claims them")
                                           .tags(tags));
                meters.getOrCreate(Gauge.builder("switchboard.gateway.refused.schemas", this,
                                                 r -> r.counts.refused.getOrDefault(service, 0))
                                           .description("Schemas of live instances whose routes the gateway refused")
                                           .tags(tags));
            }
        }
    }

    /* What the gauges read, swapped whole with each table. */
    private record Counts(Map<String, Integer> live, Map<String, Integer> conflicts, Map<String, Integer> refused) {
    }
}
