package io.switchboard.schema;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;

import com.google.protobuf.Descriptors;
import io.switchboard.api.hub.v1.ApiSchema;
import io.switchboard.api.hub.v1.Instance;

/**
 * The HTTP routes that the registered instances' schemas give, settled alike wherever they are worked out (each
 * gateway, the hub's dashboard). Immutable.
 * <ul>
 * <li>A route goes only to the instances whose schema declares it: while two versions of a service run side by
 * side, an old instance never receives a method only the new one has. Of the schemas that declare one route, the
 * newest's messages are used.</li>
 * <li>A service whose last instance is gone keeps the routes it had (when the previous plan is given): they are
 * {@link #unavailable()}.</li>
 * <li>Routes of one shape (HTTP method and path template, variable names aside) claimed by more than one service
 * or method: a live claim wins over the kept routes of a service that is down, and of live claims, the one of the
 * instance registered the longest (the lowest etcd revision, the same for every reader), so that a newcomer never
 * takes a route from a service that serves it; service and method names break the rare tie. The losers are
 * {@link #conflicts()}.</li>
 * <li>A schema whose routes cannot be served (see {@link Routes}, or two methods on one route) is refused whole:
 * its instances get no route.</li>
 * </ul>
 */
public final class RoutePlan {
    /** The plan of an empty registry. */
    public static final RoutePlan EMPTY = new RoutePlan(List.of(), List.of(), Set.of(), List.of(), Map.of(), false);

    private static final Comparator<Claim> PRECEDENCE = Comparator.comparing((Claim c) -> !c.live)
            .thenComparingLong(c -> c.since)
            .thenComparing(c -> c.route.backend())
            .thenComparing(c -> c.route.method().getFullMethodName());

    private final List<Route> routes;
    private final List<Conflict> conflicts;
    private final Set<String> unavailable;
    private final List<Refusal> refusals;
    private final Map<String, List<Claim>> kept;
    private final boolean incomplete;

    private RoutePlan(List<Route> routes, List<Conflict> conflicts, Set<String> unavailable, List<Refusal> refusals,
                      Map<String, List<Claim>> kept, boolean incomplete) {
        this.routes = routes;
        this.conflicts = conflicts;
        this.unavailable = unavailable;
        this.refusals = refusals;
        this.kept = kept;
        this.incomplete = incomplete;
    }

    /**
     * The plan of these instances.
     *
     * @param instances live instances, of every service
     * @param schemas   what a service's schema gives, by service and schema id: null when the schema cannot be read
     *                  just now (its instances get no route until it is)
     * @param previous  the plan before, whose services that are now gone keep their routes; {@link #EMPTY} for none
     * @return the plan
     */
    public static RoutePlan of(List<Instance> instances, BiFunction<String, String, SchemaRoutes> schemas,
                               RoutePlan previous) {
        Set<String> live = new HashSet<>();
        // service -> schema id -> the earliest registration of an instance that serves it
        Map<String, Map<String, Long>> served = new TreeMap<>();
        for (Instance instance : instances) {
            live.add(instance.getService());
            if (!instance.getSchemaId().isEmpty()) {
                served.computeIfAbsent(instance.getService(), s -> new TreeMap<>())
                        .merge(instance.getSchemaId(), instance.getRegisteredRevision(), Math::min);
            }
        }
        boolean incomplete = false;
        List<Refusal> refusals = new ArrayList<>();
        Map<String, List<Claim>> claims = new TreeMap<>();
        for (Map.Entry<String, Map<String, Long>> service : served.entrySet()) {
            Map<List<String>, Claim> merged = new LinkedHashMap<>();
            boolean unread = false;
            for (Map.Entry<String, Long> schema : service.getValue().entrySet()) {
                SchemaRoutes given = schemas.apply(service.getKey(), schema.getKey());
                if (given == null) {
                    unread = true;
                } else if (given.refusal() != null) {
                    refusals.add(new Refusal(service.getKey(), schema.getKey(), given.refusal()));
                } else {
                    for (Route route : given.routes()) {
                        merged.merge(List.of(route.method().getFullMethodName(), route.httpMethod(), route.template()),
                                     new Claim(route, schema.getValue(), schema.getValue(), true), Claim::merge);
                    }
                }
            }
            incomplete |= unread;
            List<Claim> before = previous.kept.get(service.getKey());
            // none of its schemas could be read just now: it keeps its routes until one is
            claims.put(service.getKey(), unread && merged.isEmpty() && before != null ? before : List.copyOf(merged.values()));
        }
        Map<String, List<Claim>> kept = new TreeMap<>(previous.kept);
        kept.putAll(claims);
        // a service whose last instance is gone keeps its routes, which its callers find unavailable
        kept.forEach((service, gone) -> claims.computeIfAbsent(service, s -> gone.stream().map(Claim::gone).toList()));
        Set<String> unavailable = new TreeSet<>(claims.keySet());
        unavailable.removeAll(live);

        Map<String, List<Claim>> byShape = new TreeMap<>();
        claims.values().forEach(list -> list.forEach(c -> byShape.computeIfAbsent(c.route.shape(), s -> new ArrayList<>())
                .add(c)));
        List<Route> routes = new ArrayList<>();
        List<Conflict> conflicts = new ArrayList<>();
        for (List<Claim> contenders : byShape.values()) {
            contenders.sort(PRECEDENCE);
            Claim winner = contenders.get(0);
            routes.add(winner.route);
            contenders.subList(1, contenders.size()).forEach(loser -> conflicts.add(new Conflict(loser.route, winner.route)));
        }
        return new RoutePlan(List.copyOf(routes), List.copyOf(conflicts), Set.copyOf(unavailable), List.copyOf(refusals),
                             Map.copyOf(kept), incomplete);
    }

    /**
     * The routes served, one per shape, ordered by shape.
     *
     * @return routes
     */
    public List<Route> routes() {
        return routes;
    }

    /**
     * The routes not served because another claim to their shape won.
     *
     * @return conflicts, ordered by shape
     */
    public List<Conflict> conflicts() {
        return conflicts;
    }

    /**
     * The services whose routes are kept while none of their instances is live.
     *
     * @return service names
     */
    public Set<String> unavailable() {
        return unavailable;
    }

    /**
     * The schemas of live instances that were refused, and why.
     *
     * @return refusals, by service and schema id
     */
    public List<Refusal> refusals() {
        return refusals;
    }

    /**
     * How many schemas of each service's live instances were refused.
     *
     * @return counts by service; services with none are absent
     */
    public Map<String, Integer> refused() {
        Map<String, Integer> counts = new TreeMap<>();
        refusals.forEach(refusal -> counts.merge(refusal.service(), 1, Integer::sum));
        return counts;
    }

    /**
     * Whether a schema could not be read: the plan should be worked out again shortly.
     *
     * @return true when incomplete
     */
    public boolean incomplete() {
        return incomplete;
    }

    /**
     * What one schema gives a service: its routes, or why it gives none.
     *
     * @param routes  the routes, empty when refused
     * @param refusal why the schema is refused, null when it is not
     */
    public record SchemaRoutes(List<Route> routes, String refusal) {
        /**
         * Reads the routes of a service's schema.
         *
         * @param service  the service the instances registered as
         * @param schemaId the schema's id
         * @param schema   the schema
         * @return its routes, or the reason it is refused (its files do not build, a rule cannot be served, two
         *         methods declare one route)
         */
        public static SchemaRoutes read(String service, String schemaId, ApiSchema schema) {
            try {
                List<Route> routes = new ArrayList<>();
                for (Descriptors.ServiceDescriptor grpc : ApiSchemas.services(schema).values()) {
                    routes.addAll(Routes.of(service, grpc, Set.of(schemaId)));
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
                return new SchemaRoutes(List.copyOf(routes), null);
            } catch (IllegalArgumentException e) {
                return refused(e.getMessage());
            }
        }

        /**
         * A refused schema.
         *
         * @param reason why
         * @return the refusal
         */
        public static SchemaRoutes refused(String reason) {
            return new SchemaRoutes(List.of(), reason);
        }
    }

    /**
     * A schema of a service refused, and why.
     *
     * @param service  the service its instances registered as
     * @param schemaId the schema's id
     * @param reason   why
     */
    public record Refusal(String service, String schemaId, String reason) {
    }

    /**
     * The plans of a registry that changes: what each schema gives each service is read once, while an instance
     * names it. Not thread safe: one caller at a time.
     */
    public static final class Follower {
        private final BiFunction<String, String, SchemaRoutes> read;
        private final boolean keepGone;
        private final Map<List<String>, SchemaRoutes> known = new HashMap<>();
        private RoutePlan last = EMPTY;

        /**
         * Follows with the given reader.
         *
         * @param read     what a service's schema gives, by service and schema id; null when it cannot be read just
         *                 now (it is asked again for the next plan)
         * @param keepGone whether each plan keeps the routes of the services gone since the plans before (a gateway's)
         *                 or has only those of live instances (a view of the registry now)
         */
        public Follower(BiFunction<String, String, SchemaRoutes> read, boolean keepGone) {
            this.read = read;
            this.keepGone = keepGone;
        }

        /**
         * The plan of the instances now.
         *
         * @param instances live instances, of every service
         * @return the plan
         */
        public RoutePlan plan(List<Instance> instances) {
            Set<List<String>> used = new HashSet<>();
            last = of(instances, (service, schemaId) -> {
                List<String> key = List.of(service, schemaId);
                SchemaRoutes routes = known.get(key);
                if (routes == null) {
                    routes = read.apply(service, schemaId);
                    if (routes == null) {
                        return null;
                    }
                    known.put(key, routes);
                }
                used.add(key);
                return routes;
            }, keepGone ? last : EMPTY);
            known.keySet().retainAll(used);
            return last;
        }
    }

    /**
     * A route not served, and the one that has its shape.
     *
     * @param loser  the route not served
     * @param winner the route served
     */
    public record Conflict(Route loser, Route winner) {
        @Override
        public String toString() {
            return "route " + loser.httpMethod() + " " + loser.template() + " of " + loser.describe() + " is not served: "
                   + winner.describe() + " has it (" + winner.httpMethod() + " " + winner.template() + ")";
        }
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
