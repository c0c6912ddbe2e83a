package io.switchboard.gateway;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import com.google.protobuf.Descriptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Tag;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.gateway.routes.Route;
import io.switchboard.gateway.routes.RouteTable;
import io.switchboard.gateway.upstream.Upstreams;
import io.switchboard.registry.Discovery;
import io.switchboard.registry.ServiceEndpoints;
import io.switchboard.schema.ApiSchemas;

/**
 * The gateway's routes, learned live from the registry. Every live instance names the schema it serves; the routes
 * of each distinct schema are read once (fetched through the hub and checked), and a new table is built on every
 * change of the instances and swapped in whole.
 * <ul>
 * <li>A route goes only to the instances whose schema declares it, so that while two versions of a service run side
 * by side, an old instance never receives a method only the new one has. A method that no live instance declares
 * has no route: 404, as for any path the API does not have.</li>
 * <li>A service whose last instance is gone keeps the routes it had, which answer 503 at once (the service is down,
 * not gone), until it comes back or the gateway restarts.</li>
 * <li>When routes of one shape (HTTP method and path template, variable names aside) are claimed by more than one
 * service or method, a live claim wins over the kept routes of a service that is down (which would otherwise hold
 * a route forever once the service is retired), and of live claims, the one of the instance registered the longest
 * (the lowest etcd revision, which every gateway reads alike), so that a newcomer never takes a route from a
 * service that serves it; service and method names break the rare tie. A service that was down entirely joins
 * again as a newcomer. Each losing route is logged once and counted in
 * {@code switchboard_gateway_route_conflicts{service}}.</li>
 * <li>A schema whose routes the gateway cannot serve (an unsupported rule, a variable that names no field, two
 * methods on one route) is refused whole, logged once with the reason and counted in
 * {@code switchboard_gateway_refused_schemas{service}}: its instances get no calls, and every other route stays.</li>
 * </ul>
 * Tables are built on one thread; readers take the current one without locking. Thread safe.
 */
final class LiveRoutes implements Supplier<RouteTable>, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LiveRoutes.class.getName());
    private static final long RETRY_MILLIS = 1000;
    /* live claims first, then the oldest registration, then names */
    private static final Comparator<Claim> PRECEDENCE = Comparator.comparing((Claim c) -> !c.live)
            .thenComparingLong(c -> c.since)
            .thenComparing(c -> c.route.backend())
            .thenComparing(c -> c.route.method().getFullMethodName());

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
    private final Map<String, Api> apis = new HashMap<>();
    private final Map<String, List<Claim>> lastLive = new HashMap<>();
    private final Set<String> logged = new HashSet<>();
    private final Set<String> gauged = new HashSet<>();
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
            boolean incomplete = swap(all.instances());
            if (incomplete) {
                builder.schedule(this::rebuild, RETRY_MILLIS, TimeUnit.MILLISECONDS);
            }
        } catch (RuntimeException e) {
            // a bug: keep the table that serves, log, try again
            LOG.log(Level.ERROR, "cannot build the route table; keeping the current one: " + e, e);
            builder.schedule(this::rebuild, RETRY_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /* Builds and swaps in the table of these instances; true when a schema could not be read and must be tried again. */
    private boolean swap(List<Instance> instances) {
        Map<String, Integer> live = new TreeMap<>();
        // service -> schema id -> the earliest registration of an instance that serves it
        Map<String, Map<String, Long>> served = new TreeMap<>();
        for (Instance instance : instances) {
            live.merge(instance.getService(), 1, Integer::sum);
            if (!instance.getSchemaId().isEmpty()) {
                served.computeIfAbsent(instance.getService(), s -> new TreeMap<>())
                        .merge(instance.getSchemaId(), instance.getRegisteredRevision(), Math::min);
            }
        }
        boolean incomplete = false;
        Set<String> used = new HashSet<>();
        Map<String, Integer> refused = new TreeMap<>();
        Map<String, List<Claim>> claims = new TreeMap<>();
        for (Map.Entry<String, Map<String, Long>> service : served.entrySet()) {
            Map<List<String>, Claim> merged = new LinkedHashMap<>();
            boolean unread = false;
            for (Map.Entry<String, Long> schema : service.getValue().entrySet()) {
                String key = service.getKey() + " " + schema.getKey();
                Api api = apis.get(key);
                if (api == null) {
                    api = read(service.getKey(), schema.getKey());
                    if (api == null) {
                        unread = true;
                        continue;
                    }
                    apis.put(key, api);
                }
                used.add(key);
                if (api.refusal != null) {
                    refused.merge(service.getKey(), 1, Integer::sum);
                    continue;
                }
                for (Route route : api.routes) {
                    merged.merge(List.of(route.method().getFullMethodName(), route.httpMethod(), route.template()),
                                 new Claim(route, schema.getValue(), schema.getValue(), true), Claim::merge);
                }
            }
            incomplete |= unread;
            if (unread && merged.isEmpty() && lastLive.containsKey(service.getKey())) {
                // none of its schemas could be read just now: it keeps its routes until one is
                claims.put(service.getKey(), lastLive.get(service.getKey()));
            } else {
                claims.put(service.getKey(), List.copyOf(merged.values()));
            }
        }
        apis.keySet().retainAll(used);
        claims.forEach(lastLive::put);
        // a service whose last instance is gone keeps its routes, which answer 503 at once
        lastLive.forEach((service, gone) -> claims.computeIfAbsent(service, s -> gone.stream().map(Claim::gone).toList()));

        Map<String, List<Claim>> byShape = new TreeMap<>();
        claims.values().forEach(list -> list.forEach(c -> byShape.computeIfAbsent(c.route.shape(), s -> new ArrayList<>())
                .add(c)));
        List<Route> routes = new ArrayList<>();
        Map<String, Integer> conflicts = new TreeMap<>();
        for (List<Claim> contenders : byShape.values()) {
            contenders.sort(PRECEDENCE);
            Claim winner = contenders.get(0);
            routes.add(winner.route);
            for (Claim loser : contenders.subList(1, contenders.size())) {
                conflicts.merge(loser.route.backend(), 1, Integer::sum);
                String conflict = "route " + loser.route.httpMethod() + " " + loser.route.template() + " of "
                                  + describe(loser.route) + " is not served: " + describe(winner.route) + " has it ("
                                  + winner.route.httpMethod() + " " + winner.route.template() + ")";
                if (logged.add(conflict)) {
                    LOG.log(Level.WARNING, conflict);
                }
            }
        }
        Set<String> unavailable = new HashSet<>(claims.keySet());
        unavailable.removeAll(live.keySet());
        RouteTable next = RouteTable.of(routes, unavailable);
        upstreams.use(next);
        table = next;
        counts = new Counts(live, conflicts, refused);
        report(next, claims.keySet());
        return incomplete;
    }

    /* The routes of one schema of a service, null when it cannot be fetched just now. */
    private Api read(String service, String schemaId) {
        String name = service + " (schema " + schemaId.substring(0, Math.min(schemaId.length(), 19)) + "...)";
        ApiSchema schema;
        try {
            schema = discovery.schema(schemaId);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.DATA_LOSS) {
                return refuse(name, e.getStatus().getDescription());
            }
            // NOT_FOUND too: a schema etcd lost is published again by the instances that serve it
            if (logged.add("fetch " + schemaId)) {
                LOG.log(Level.WARNING, "cannot fetch the API of " + name + " from the hub (" + e.getStatus().getCode()
                                       + "); its instances get no calls until it is read, trying every second");
            }
            return null;
        }
        logged.remove("fetch " + schemaId);
        try {
            List<Route> routes = new ArrayList<>();
            for (Descriptors.ServiceDescriptor grpc : ApiSchemas.services(schema).values()) {
                routes.addAll(RouteTable.routes(service, grpc, Set.of(schemaId)));
            }
            Map<String, Route> shapes = new HashMap<>();
            for (Route route : routes) {
                Route other = shapes.putIfAbsent(route.shape(), route);
                if (other != null) {
                    throw new IllegalArgumentException(route.httpMethod() + " " + route.template() + " is declared by "
                                                       + other.method().getFullMethodName() + " and "
                                                       + route.method().getFullMethodName());
                }
            }
            return new Api(List.copyOf(routes), null);
        } catch (IllegalArgumentException e) {
            return refuse(name, e.getMessage());
        }
    }

    private static Api refuse(String name, String reason) {
        LOG.log(Level.WARNING, "refusing the API of " + name + ": " + reason
                               + "; its instances get no calls through the gateway, other routes are unchanged");
        return new Api(List.of(), reason);
    }

    private static String describe(Route route) {
        return route.backend() + " (" + route.method().getFullMethodName() + ")";
    }

    /* One log line when the routes change, and the gauges of services seen for the first time. */
    private void report(RouteTable next, Set<String> services) {
        Map<String, String> now = new TreeMap<>();
        next.routes().forEach(r -> now.put(r.httpMethod() + " " + r.template(), describe(r)));
        if (!now.equals(described)) {
            LOG.log(Level.INFO, "route table: " + now.size() + " routes of " + services.size() + " services");
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

    /* The routes of one schema of a service, or why it was refused. */
    private record Api(List<Route> routes, String refusal) {
    }

    /*
     * A service's claim to a route: the route, served by the instances of the schemas that declare it; since, the
     * earliest registration among them; newest, the latest (whose schema's messages the route uses).
     */
    private record Claim(Route route, long since, long newest, boolean live) {
        Claim merge(Claim other) {
            Route newer = other.newest > newest ? other.route : route;
            Set<String> schemas = new HashSet<>(route.schemas());
            schemas.addAll(other.route.schemas());
            return new Claim(newer.servedBy(schemas), Math.min(since, other.since), Math.max(newest, other.newest), live);
        }

        Claim gone() {
            return new Claim(route, since, newest, false);
        }
    }
}
