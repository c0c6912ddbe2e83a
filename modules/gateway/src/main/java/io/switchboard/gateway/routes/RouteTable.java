package io.switchboard.gateway.routes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.switchboard.api.gateway.v1.RouteProto;

/**
 * Every HTTP route of the gateway, built at start from the {@code google.api.http} rules and
 * {@code switchboard.gateway.v1.route} options of the gRPC services it is given: adding an annotated RPC needs no
 * gateway code. Immutable and thread safe.
 */
public final class RouteTable {
    private static final long DEFAULT_DEADLINE_MILLIS = 5000;

    private final List<Entry> entries;

    private RouteTable(List<Entry> entries) {
        this.entries = entries;
    }

    /**
     * The routes of the given gRPC services (generated {@code XxxGrpc.getServiceDescriptor()}).
     *
     * @param services gRPC services whose methods carry google.api.http rules
     * @return the table
     * @throws IllegalArgumentException for a service without a backend name or a rule this gateway cannot serve
     */
    public static RouteTable of(List<ServiceDescriptor> services) {
        List<Entry> entries = new ArrayList<>();
        for (ServiceDescriptor service : services) {
            Descriptors.ServiceDescriptor proto = protoOf(service);
            String backend = proto.getOptions().getExtension(RouteProto.backend);
            if (backend.isEmpty()) {
                throw new IllegalArgumentException(proto.getFullName() + " has no (switchboard.gateway.v1.backend) option");
            }
            for (MethodDescriptor<?, ?> method : service.getMethods()) {
                Descriptors.MethodDescriptor methodProto = proto.findMethodByName(method.getBareMethodName());
                if (methodProto == null || !methodProto.getOptions().hasExtension(AnnotationsProto.http)) {
                    continue;
                }
                entries.add(entry(backend, cast(method), methodProto));
            }
        }
        // most specific first, declaration order otherwise (the sort is stable)
        entries.sort((a, b) -> a.template.compareSpecificity(b.template));
        return new RouteTable(List.copyOf(entries));
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
     * @return routes, most specific path first, in declaration order otherwise
     */
    public List<Route> routes() {
        return entries.stream().map(Entry::route).toList();
    }

    /**
     * Registry names of the services the routes call.
     *
     * @return backend names
     */
    public Set<String> backends() {
        Set<String> names = new LinkedHashSet<>();
        entries.forEach(e -> names.add(e.route.backend()));
        return names;
    }

    private static Entry entry(String backend, MethodDescriptor<Message, Message> method,
                               Descriptors.MethodDescriptor proto) {
        HttpRule rule = proto.getOptions().getExtension(AnnotationsProto.http);
        String httpMethod;
        String template;
        switch (rule.getPatternCase()) {
        case GET -> { httpMethod = "GET"; template = rule.getGet(); }
        case POST -> { httpMethod = "POST"; template = rule.getPost(); }
        case PUT -> { httpMethod = "PUT"; template = rule.getPut(); }
        case DELETE -> { httpMethod = "DELETE"; template = rule.getDelete(); }
        case PATCH -> { httpMethod = "PATCH"; template = rule.getPatch(); }
        default -> throw new IllegalArgumentException(proto.getFullName() + ": unsupported http rule " + rule);
        }
        if (!rule.getBody().isEmpty() && !"*".equals(rule.getBody())) {
            throw new IllegalArgumentException(proto.getFullName() + ": only body \"*\" or none is supported");
        }
        var options = proto.getOptions().getExtension(RouteProto.route);
        Message prototype = (Message) ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller())
                .getMessagePrototype();
        Route route = new Route(httpMethod, template, backend, method, prototype, "*".equals(rule.getBody()),
                                options.getAuth(),
                                options.getSuccessStatus() == 0 ? 200 : options.getSuccessStatus(),
                                options.getIdempotent() || "GET".equals(httpMethod),
                                options.getRateLimited(),
                                options.getDeadlineMs() == 0 ? DEFAULT_DEADLINE_MILLIS : options.getDeadlineMs());
        PathTemplate path = PathTemplate.parse(template);
        for (String variable : path.variables()) {
            Descriptors.FieldDescriptor field = prototype.getDescriptorForType().findFieldByName(variable);
            if (field == null || field.isRepeated() || field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE) {
                throw new IllegalArgumentException(proto.getFullName() + ": path variable {" + variable + "} of "
                                                   + template + " must name a singular scalar field of "
                                                   + prototype.getDescriptorForType().getFullName());
            }
        }
        return new Entry(path, route);
    }

    private static Descriptors.ServiceDescriptor protoOf(ServiceDescriptor service) {
        if (service.getSchemaDescriptor() instanceof io.grpc.protobuf.ProtoServiceDescriptorSupplier supplier) {
            return supplier.getServiceDescriptor();
        }
        throw new IllegalArgumentException(service.getName() + " is not a protobuf service");
    }

    @SuppressWarnings("unchecked")
    private static MethodDescriptor<Message, Message> cast(MethodDescriptor<?, ?> method) {
        return (MethodDescriptor<Message, Message>) method;
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
