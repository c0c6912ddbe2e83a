package io.switchboard.gateway.routes;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.google.protobuf.Descriptors;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import io.switchboard.api.gateway.v1.RouteProto;
import io.switchboard.schema.PathTemplate;
import io.switchboard.schema.Route;
import io.switchboard.schema.Routes;

/**
 * Every HTTP route of the gateway at one moment, built from the {@code google.api.http} rules and
 * {@code switchboard.gateway.v1.route} options of the gRPC services that registered instances publish: adding an
 * annotated RPC needs no gateway code. Immutable and thread safe: a new table replaces the old one whole.
 */
public final class RouteTable {
    /** The table before anything registered. */
    public static final RouteTable EMPTY = new RouteTable(List.of(), List.of(), Set.of());

    /* most specific first, for matching */
    private final List<Entry> entries;
    private final List<Route> declared;
    private final Set<String> unavailable;

    private RouteTable(List<Entry> entries, List<Route> declared, Set<String> unavailable) {
        this.entries = entries;
        this.declared = declared;
        this.unavailable = unavailable;
    }

    /**
     * A table of routes: of two that a path can both match, the most specific is tried first (a literal segment
     * before a variable), in the given order otherwise.
     *
     * @param routes      routes, as {@link Routes#of(String, Descriptors.ServiceDescriptor, Set)} makes them
     * @param unavailable backends whose routes stay while none of their instances is live
     * @return the table
     */
    public static RouteTable of(List<Route> routes, Set<String> unavailable) {
        List<Entry> entries = new ArrayList<>();
        routes.forEach(route -> entries.add(new Entry(PathTemplate.parse(route.template()), route)));
        // most specific first, declaration order otherwise (the sort is stable)
        entries.sort((a, b) -> a.template.compareSpecificity(b.template));
        return new RouteTable(List.copyOf(entries), List.copyOf(routes), Set.copyOf(unavailable));
    }

    /**
     * The routes of generated gRPC services ({@code XxxGrpc.getServiceDescriptor()}), each calling the backend its
     * {@code (switchboard.gateway.v1.backend)} option names: a fixed table, for tests and tools.
     *
     * @param services gRPC services whose methods carry google.api.http rules
     * @return the table
     * @throws IllegalArgumentException for a service without a backend name or a rule this gateway cannot serve
     */
    public static RouteTable of(Collection<ServiceDescriptor> services) {
        List<Route> routes = new ArrayList<>();
        for (ServiceDescriptor service : services) {
            if (!(service.getSchemaDescriptor() instanceof ProtoServiceDescriptorSupplier supplier)) {
                throw new IllegalArgumentException(service.getName() + " is not a protobuf service");
            }
            Descriptors.ServiceDescriptor proto = supplier.getServiceDescriptor();
            String backend = proto.getOptions().getExtension(RouteProto.backend);
            if (backend.isEmpty()) {
                throw new IllegalArgumentException(proto.getFullName() + " has no (switchboard.gateway.v1.backend) option");
            }
            routes.addAll(Routes.of(backend, proto, Set.of()));
        }
        return of(routes, Set.of());
    }

    /**
     * Finds the route of a request.
     *
     * @param httpMethod HTTP method
     * @param path       raw request path
     * @return the match, or why there is none
     */
    public Match match(String httpMethod, String path) {
        String[] segments = PathTemplate.split(path);
        // on the hot path: one map for every candidate (a template only writes to it when it matches)
        Map<String, String> variables = new LinkedHashMap<>();
        Set<String> allowed = null;
        for (Entry entry : entries) {
            if (entry.template.match(segments, variables)) {
                if (entry.route.httpMethod().equals(httpMethod)) {
                    return new Match(entry.route, variables, Set.of());
                }
                variables.clear();
                if (allowed == null) {
                    allowed = new TreeSet<>();
                }
                allowed.add(entry.route.httpMethod());
            }
        }
        return new Match(null, Map.of(), allowed == null ? Set.of() : allowed);
    }

    /**
     * All routes.
     *
     * @return routes, in the order given
     */
    public List<Route> routes() {
        return declared;
    }

    /**
     * The backends whose routes stay while none of their instances is live: their calls fail at once.
     *
     * @return backend names
     */
    public Set<String> unavailable() {
        return unavailable;
    }

    /**
     * Registry names of the services the routes call.
     *
     * @return backend names
     */
    public Set<String> backends() {
        Set<String> names = new LinkedHashSet<>();
        declared.forEach(route -> names.add(route.backend()));
        return names;
    }

    /**
     * The route of a request, or the methods the path allows when there is none.
     *
     * @param route     the route, null when none matched
     * @param variables path variables
     * @param allowed   methods the path allows (non-empty means 405, empty means 404), when route is null
     */
    public record Match(Route route, Map<String, String> variables, Set<String> allowed) {
    }

    private record Entry(PathTemplate template, Route route) {
    }
}
