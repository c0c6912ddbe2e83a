package io.switchboard.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.grpc.protobuf.ProtoUtils;
import io.switchboard.api.gateway.v1.RouteProto;

/**
 * The HTTP routes a gRPC service declares with {@code google.api.http} rules and
 * {@code switchboard.gateway.v1.route} options, each checked when it is read, so that a rule the gateway cannot
 * serve is refused with its reason rather than failing every request.
 */
public final class Routes {
    private static final long DEFAULT_DEADLINE_MILLIS = 5000;

    private Routes() {
    }

    /**
     * The routes a gRPC service's methods declare, each checked: its path template, the fields its variables name,
     * its body.
     *
     * @param backend registry name of the service that serves them
     * @param service the gRPC service, with its options (see {@code ApiSchemas.services})
     * @param schemas the schema ids of the instances that serve it (empty: any instance of the backend)
     * @return its routes, in declaration order
     * @throws IllegalArgumentException for a rule this gateway cannot serve, or a service whose
     *                                  {@code (switchboard.gateway.v1.backend)} option names another service
     */
    public static List<Route> of(String backend, Descriptors.ServiceDescriptor service, Set<String> schemas) {
        String declared = service.getOptions().getExtension(RouteProto.backend);
        if (!declared.isEmpty() && !declared.equals(backend)) {
            throw new IllegalArgumentException(service.getFullName() + " declares the backend " + declared
                                               + " but is served by " + backend);
        }
        List<Route> routes = new ArrayList<>();
        for (Descriptors.MethodDescriptor method : service.getMethods()) {
            if (method.getOptions().hasExtension(AnnotationsProto.http)) {
                HttpRule rule = method.getOptions().getExtension(AnnotationsProto.http);
                routes.add(route(backend, method, rule, Set.copyOf(schemas)));
                for (HttpRule binding : rule.getAdditionalBindingsList()) {
                    if (binding.getAdditionalBindingsCount() > 0) {
                        throw new IllegalArgumentException(method.getFullName() + ": additional_bindings cannot nest");
                    }
                    routes.add(route(backend, method, binding, Set.copyOf(schemas)));
                }
            }
        }
        return routes;
    }

    /**
     * The fields a field path names, from the outermost: {@code post.id} gives the message field {@code post} and
     * the field {@code id} of its type. Each name is a field's proto name or its JSON name.
     *
     * @param type a message type
     * @param path a field path
     * @return the fields, empty when the path names none (a missing field, or a step through a field that is not a
     *         singular message)
     */
    public static List<Descriptors.FieldDescriptor> fieldPath(Descriptors.Descriptor type, String path) {
        List<Descriptors.FieldDescriptor> fields = new ArrayList<>();
        Descriptors.Descriptor current = type;
        for (String name : path.split("\\.", -1)) {
            if (current == null) {
                return List.of();
            }
            Descriptors.FieldDescriptor field = field(current, name);
            if (field == null) {
                return List.of();
            }
            fields.add(field);
            current = field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE && !field.isRepeated()
                    ? field.getMessageType() : null;
        }
        return fields;
    }

    private static Descriptors.FieldDescriptor field(Descriptors.Descriptor type, String name) {
        Descriptors.FieldDescriptor field = type.findFieldByName(name);
        if (field != null) {
            return field;
        }
        for (Descriptors.FieldDescriptor candidate : type.getFields()) {
            if (candidate.getJsonName().equals(name)) {
                return candidate;
            }
        }
        return null;
    }

    private static Route route(String backend, Descriptors.MethodDescriptor proto, HttpRule rule, Set<String> schemas) {
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
        Descriptors.Descriptor input = proto.getInputType();
        String bodyField = rule.getBody().equals("*") ? "" : rule.getBody();
        if (!bodyField.isEmpty() && input.findFieldByName(bodyField) == null) {
            throw new IllegalArgumentException(proto.getFullName() + ": body \"" + bodyField + "\" names no top-level "
                                               + "field of " + input.getFullName());
        }
        if (!rule.getResponseBody().isEmpty() && proto.getOutputType().findFieldByName(rule.getResponseBody()) == null) {
            throw new IllegalArgumentException(proto.getFullName() + ": response_body \"" + rule.getResponseBody()
                                               + "\" names no top-level field of " + proto.getOutputType().getFullName());
        }
        if (proto.isClientStreaming()) {
            throw new IllegalArgumentException(proto.getFullName() + ": client-streaming methods are not served over HTTP");
        }
        PathTemplate path = PathTemplate.parse(template);
        for (String variable : path.variables()) {
            List<Descriptors.FieldDescriptor> fields = fieldPath(input, variable);
            Descriptors.FieldDescriptor field = fields.isEmpty() ? null : fields.get(fields.size() - 1);
            if (field == null || field.isRepeated() || field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE) {
                throw new IllegalArgumentException(proto.getFullName() + ": path variable {" + variable + "} of "
                                                   + template + " must name a singular scalar field of "
                                                   + input.getFullName());
            }
            if (!path.singleSegment(variable) && field.getJavaType() != Descriptors.FieldDescriptor.JavaType.STRING) {
                throw new IllegalArgumentException(proto.getFullName() + ": path variable {" + variable + "} of "
                                                   + template + " takes several segments: it must name a string field");
            }
        }
        var options = proto.getOptions().getExtension(RouteProto.route);
        if (!options.getEventId().isEmpty() || !options.getResumeField().isEmpty()) {
            if (!proto.isServerStreaming()) {
                throw new IllegalArgumentException(proto.getFullName() + ": event_id and resume_field are for "
                                                   + "server-streaming methods");
            }
            checkStringField(proto, proto.getOutputType(), "event_id", options.getEventId());
            checkStringField(proto, input, "resume_field", options.getResumeField());
        }
        Message prototype = DynamicMessage.getDefaultInstance(input);
        MethodDescriptor<Message, Message> method = MethodDescriptor.<Message, Message>newBuilder()
                .setType(proto.isServerStreaming() ? MethodDescriptor.MethodType.SERVER_STREAMING
                                                   : MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(proto.getService().getFullName(), proto.getName()))
                .setRequestMarshaller(ProtoUtils.marshaller(prototype))
                .setResponseMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(proto.getOutputType())))
                // as generated stubs do: the descriptor it came from, for whoever documents the route
                .setSchemaDescriptor(new MethodSource(proto))
                .build();
        return new Route(httpMethod, template, backend, method, prototype, !rule.getBody().isEmpty(),
                         options.getAuth(),
                         options.getSuccessStatus() == 0 ? 200 : options.getSuccessStatus(),
                         options.getIdempotent() || "GET".equals(httpMethod),
                         options.getRateLimited(),
                         options.getDeadlineMs() == 0 ? DEFAULT_DEADLINE_MILLIS : options.getDeadlineMs(),
                         schemas, bodyField, rule.getResponseBody(), options.getEventId(), options.getResumeField());
    }

    /* an event_id or resume_field option names a top-level singular string field of its message, or nothing */
    private static void checkStringField(Descriptors.MethodDescriptor proto, Descriptors.Descriptor type, String option,
                                         String name) {
        if (name.isEmpty()) {
            return;
        }
        Descriptors.FieldDescriptor field = type.findFieldByName(name);
        if (field == null || field.isRepeated() || field.getJavaType() != Descriptors.FieldDescriptor.JavaType.STRING) {
            throw new IllegalArgumentException(proto.getFullName() + ": " + option + " \"" + name + "\" names no "
                                               + "top-level string field of " + type.getFullName());
        }
    }

    /* The proto method behind a route's gRPC method (grpc-java's schema descriptor). */
    private record MethodSource(Descriptors.MethodDescriptor method) implements ProtoMethodDescriptorSupplier {
        @Override
        public Descriptors.MethodDescriptor getMethodDescriptor() {
            return method;
        }

        @Override
        public Descriptors.ServiceDescriptor getServiceDescriptor() {
            return method.getService();
        }

        @Override
        public Descriptors.FileDescriptor getFileDescriptor() {
            return method.getFile();
        }
    }
}
