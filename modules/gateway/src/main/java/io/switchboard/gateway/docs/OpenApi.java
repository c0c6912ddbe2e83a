package io.switchboard.gateway.docs;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.DescriptorProtos;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.switchboard.gateway.routes.RouteTable;
import io.switchboard.schema.Route;
import io.switchboard.schema.Routes;

/**
 * An OpenAPI 3.1 document of a route table, made from the descriptors the services published: every route with its
 * path and query parameters, its request body and its answers, the schemas of its messages as the protobuf JSON
 * mapping writes them (lowerCamelCase names, enums as strings, 64-bit integers as strings, well-known types as
 * their JSON forms), the proto comments as descriptions, bearer security where a route needs a token, and the error
 * shape every route shares. Routes kept for a service with no live instance are left out. No library turns descriptors into OpenAPI at run time (grpc-gateway's generator is a
 * protoc plugin in Go), so this walks them; the tests read what it writes with swagger-parser. Not thread safe: one
 * instance makes one document.
 */
public final class OpenApi {
    private static final String REF = "#/components/schemas/";
    /* not a name a proto message can have, so that no service's message takes its place */
    private static final String ERROR = "gateway-error";
    /* {field=pattern} or {field}: the variable's field path */
    private static final Pattern VARIABLE = Pattern.compile("\\{([^}=]+)(=[^}]*)?}");
    /* how deep query parameters reach into nested messages */
    private static final int MAX_QUERY_DEPTH = 3;

    private final JsonObject schemas = new JsonObject();
    private final Set<String> described = new HashSet<>();
    private final Deque<Descriptors.GenericDescriptor> pending = new ArrayDeque<>();
    private final Map<Descriptors.FileDescriptor, Map<List<Integer>, String>> comments = new HashMap<>();

    private OpenApi() {
    }

    /**
     * The document of a route table.
     *
     * @param table   the routes
     * @param title   the API's title
     * @param version the document's version (it changes with the routes)
     * @return the OpenAPI 3.1 document
     */
    public static JsonObject of(RouteTable table, String title, String version) {
        return of(table, title, version, path -> false, left -> { });
    }

    /**
     * The document of a route table, leaving out the routes it cannot show.
     *
     * @param table    the routes
     * @param title    the API's title
     * @param version  the document's version
     * @param reserved whether a route's path template is one the gateway answers itself (its routes never reached)
     * @param leftOut  told of each route left out and why: one on a reserved path, one whose OpenAPI path and method
     *                 another route has already (multi-segment variables of different patterns), one that cannot be
     *                 described
     * @return the OpenAPI 3.1 document
     */
    public static JsonObject of(RouteTable table, String title, String version, Predicate<String> reserved,
                                Consumer<String> leftOut) {
        return new OpenApi().document(table, title, version, reserved, leftOut);
    }

    private JsonObject document(RouteTable table, String title, String version, Predicate<String> reserved,
                                Consumer<String> leftOut) {
        JsonObject paths = new JsonObject();
        Map<String, JsonObject> byPath = new TreeMap<>();
        Map<String, Integer> operationIds = new HashMap<>();
        for (Route route : table.routes()) {
            if (table.unavailable().contains(route.backend())) {
                // kept while the service is gone (503 at once), but nothing a client can call now
                continue;
            }
            String shown = route.httpMethod() + " " + route.template() + " of " + route.describe();
            if (reserved.test(route.template())) {
                leftOut.accept(shown + ": the gateway answers that path itself");
                continue;
            }
            try {
                Descriptors.Descriptor input = method(route).getInputType();
                String path = VARIABLE.matcher(route.template())
                        .replaceAll(v -> Matcher.quoteReplacement("{" + jsonPath(input, v.group(1)) + "}"));
                JsonObject item = byPath.computeIfAbsent(path, p -> new JsonObject());
                String method = route.httpMethod().toLowerCase();
                if (item.has(method)) {
                    leftOut.accept(shown + ": another route is " + route.httpMethod() + " " + path + " in OpenAPI's terms");
                    continue;
                }
                item.add(method, operation(route, operationIds));
            } catch (RuntimeException e) {
                leftOut.accept(shown + ": " + e);
            }
        }
        byPath.values().removeIf(JsonObject::isEmpty);
        byPath.forEach(paths::add);
        while (!pending.isEmpty()) {
            Descriptors.GenericDescriptor next = pending.pop();
            if (next instanceof Descriptors.Descriptor message) {
                schemas.add(message.getFullName(), messageSchema(message));
            } else if (next instanceof Descriptors.EnumDescriptor type) {
                schemas.add(type.getFullName(), enumSchema(type));
            }
        }
        schemas.add(ERROR, errorSchema());

        JsonObject info = new JsonObject();
        info.addProperty("title", title);
        info.addProperty("version", version);
        info.addProperty("description", "The HTTP API of the services registered now, as their instances published it. "
                                        + "It changes as services come and go.");
        JsonObject bearer = new JsonObject();
        bearer.addProperty("type", "http");
        bearer.addProperty("scheme", "bearer");
        bearer.addProperty("bearerFormat", "JWT");
        bearer.addProperty("description", "A token from POST /user/login");
        JsonObject securitySchemes = new JsonObject();
        securitySchemes.add("bearer", bearer);
        JsonObject components = new JsonObject();
        components.add("schemas", sorted(schemas));
        components.add("securitySchemes", securitySchemes);

        JsonObject document = new JsonObject();
        document.addProperty("openapi", "3.1.0");
        document.add("info", info);
        document.add("paths", paths);
        document.add("components", components);
        return document;
    }

    private JsonObject operation(Route route, Map<String, Integer> operationIds) {
        Descriptors.MethodDescriptor method = method(route);
        JsonObject operation = new JsonObject();
        String id = method.getService().getName() + "_" + method.getName();
        int seen = operationIds.merge(id, 1, Integer::sum);
        operation.addProperty("operationId", seen == 1 ? id : id + "_" + seen);
        JsonArray tags = new JsonArray();
        tags.add(route.backend());
        operation.add("tags", tags);
        operation.addProperty("summary", method.getName());
        describe(operation, method);

        Descriptors.Descriptor input = method.getInputType();
        JsonArray parameters = new JsonArray();
        Set<String> bound = new HashSet<>();
        Matcher variables = VARIABLE.matcher(route.template());
        while (variables.find()) {
            List<FieldDescriptor> fields = fieldPath(input, variables.group(1));
            bound.add(String.join(".", fields.stream().map(FieldDescriptor::getName).toList()));
            JsonObject parameter = parameter(jsonPath(input, variables.group(1)), "path", fields.get(fields.size() - 1));
            parameter.addProperty("required", true);
            if (variables.group(2) != null) {
                String segments = variables.group(2).substring(1);
                parameter.getAsJsonObject("schema").addProperty("pattern", segmentsPattern(segments));
                appendDescription(parameter, "Several path segments (" + segments + "), with their slashes: call it "
                                             + "directly, a client that encodes the slashes reaches no route.");
            }
            parameters.add(parameter);
        }
        if (!route.body() || !route.bodyField().isEmpty()) {
            queryParameters(input, "", "", bound, route.bodyField(), 1, new HashSet<>(), parameters);
        }
        if (route.streaming() && !route.resumeField().isEmpty()) {
            JsonObject lastEventId = new JsonObject();
            lastEventId.addProperty("name", "Last-Event-ID");
            lastEventId.addProperty("in", "header");
            lastEventId.addProperty("description", "The id of the last event a client saw: the stream goes on after it "
                                                   + "(browsers send it when they reconnect)");
            lastEventId.add("schema", typed("string", null));
            parameters.add(lastEventId);
        }
        if (!parameters.isEmpty()) {
            operation.add("parameters", parameters);
        }
        if (route.body()) {
            JsonObject body = new JsonObject();
            body.addProperty("required", true);
            body.add("content", json(route.bodyField().isEmpty() ? ref(input) : fieldSchema(input.findFieldByName(route.bodyField()))));
            operation.add("requestBody", body);
        }

        JsonObject responses = new JsonObject();
        JsonObject success = new JsonObject();
        success.addProperty("description", route.successStatus() == 204 ? "Done; no content" : "The answer");
        if (route.streaming()) {
            streamed(route, method.getOutputType(), success);
        } else if (route.successStatus() != 204) {
            Descriptors.Descriptor output = method.getOutputType();
            success.add("content", json(route.responseBody().isEmpty() ? ref(output)
                                                                       : fieldSchema(output.findFieldByName(route.responseBody()))));
        }
        responses.add(String.valueOf(route.successStatus()), success);
        error(responses, "400", "The request is malformed or a value is out of range (INVALID_ARGUMENT, "
                                + "FAILED_PRECONDITION, OUT_OF_RANGE)");
        if (route.auth()) {
            error(responses, "401", "No valid bearer token (UNAUTHENTICATED)");
        }
        error(responses, "404", "Not found (NOT_FOUND)");
        if (route.body()) {
            error(responses, "413", "The body is over the gateway's limit");
            error(responses, "415", "The body is not JSON");
        }
        error(responses, "429", "Too many requests (RESOURCE_EXHAUSTED); the Retry-After header says when to try again");
        error(responses, "503", "No live instance of the service, or it is unavailable (UNAVAILABLE)");
        if (route.streaming()) {
            error(responses, "406", "The Accept header takes neither text/event-stream nor application/x-ndjson");
        } else {
            error(responses, "504", "The service did not answer within the route's deadline (DEADLINE_EXCEEDED)");
        }
        error(responses, "default", "Any other error, in the same shape (PERMISSION_DENIED 403, ALREADY_EXISTS 409, "
                                    + "INTERNAL 500, ...)");
        operation.add("responses", responses);
        if (route.auth()) {
            JsonObject requirement = new JsonObject();
            requirement.add("bearer", new JsonArray());
            JsonArray security = new JsonArray();
            security.add(requirement);
            operation.add("security", security);
        }
        return operation;
    }

    /* A stream's answer: SSE with one message per data line, or NDJSON with one per line. */
    private void streamed(Route route, Descriptors.Descriptor output, JsonObject success) {
        JsonObject item = route.responseBody().isEmpty() ? ref(output) : fieldSchema(output.findFieldByName(route.responseBody()));
        success.addProperty("description", "A stream that lasts while the service sends: with Accept: text/event-stream, "
                                           + "Server-Sent Events, each message one event whose data is the JSON below"
                                           + (route.eventIdField().isEmpty() ? "" : " and whose id is its "
                                              + route.eventIdField() + " (send it back in Last-Event-ID to resume)")
                                           + "; otherwise NDJSON, one JSON message per line. Empty lines and SSE "
                                           + "comments are heartbeats. A failure ends the stream with an error event "
                                           + "(a last line {\"error\": ...}) in the shape of other errors; a "
                                           + "reconnect event asks the client to connect again.");
        JsonObject events = new JsonObject();
        JsonObject eventText = typed("string", null);
        eventText.addProperty("description", "text/event-stream: data lines hold the JSON of the NDJSON lines' schema");
        events.add("schema", eventText);
        JsonObject lines = new JsonObject();
        lines.add("schema", item);
        JsonObject content = new JsonObject();
        content.add("text/event-stream", events);
        content.add("application/x-ndjson", lines);
        success.add("content", content);
    }

    /*
     * The query parameters of a route: every scalar, enum, repeated scalar and field-mask field the path and the body
     * do not fill, through singular nested messages (post.id), by JSON name.
     */
    private void queryParameters(Descriptors.Descriptor message, String protoPrefix, String jsonPrefix, Set<String> bound,
                                 String bodyField, int depth, Set<String> visiting, JsonArray parameters) {
        visiting.add(message.getFullName());
        for (FieldDescriptor field : message.getFields()) {
            String protoPath = protoPrefix + field.getName();
            String jsonPath = jsonPrefix + field.getJsonName();
            if (bound.contains(protoPath) || protoPrefix.isEmpty() && field.getName().equals(bodyField)
                || field.isMapField() || field.getType() == FieldDescriptor.Type.BYTES) {
                // bytes cannot be given in the URL (the gateway answers 400)
                continue;
            }
            if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                parameters.add(parameter(jsonPath, "query", field));
            } else if (field.getMessageType().getFullName().equals("google.protobuf.FieldMask")) {
                parameters.add(parameter(jsonPath, "query", field));
            } else if (!field.isRepeated() && !wellKnown(field.getMessageType()) && depth < MAX_QUERY_DEPTH
                       && !visiting.contains(field.getMessageType().getFullName())) {
                queryParameters(field.getMessageType(), protoPath + ".", jsonPath + ".", bound, bodyField, depth + 1,
                                visiting, parameters);
            }
        }
        visiting.remove(message.getFullName());
    }

    private JsonObject parameter(String name, String in, FieldDescriptor field) {
        JsonObject parameter = new JsonObject();
        parameter.addProperty("name", name);
        parameter.addProperty("in", in);
        describe(parameter, field);
        parameter.add("schema", fieldSchema(field));
        if (field.isRepeated()) {
            parameter.addProperty("style", "form");
            parameter.addProperty("explode", true);
        }
        return parameter;
    }

    private JsonObject messageSchema(Descriptors.Descriptor message) {
        JsonObject schema = new JsonObject();
        schema.addProperty("type", "object");
        describe(schema, message);
        JsonObject properties = new JsonObject();
        for (FieldDescriptor field : message.getFields()) {
            JsonObject property = fieldSchema(field);
            describe(property, field);
            properties.add(field.getJsonName(), property);
        }
        schema.add("properties", properties);
        return schema;
    }

    private JsonObject enumSchema(Descriptors.EnumDescriptor type) {
        JsonObject schema = new JsonObject();
        schema.addProperty("type", "string");
        JsonArray names = new JsonArray();
        type.getValues().forEach(v -> names.add(v.getName()));
        schema.add("enum", names);
        describe(schema, type);
        return schema;
    }

    /* A field's schema as the protobuf JSON mapping writes it (repeated as arrays, maps as objects). */
    private JsonObject fieldSchema(FieldDescriptor field) {
        if (field.isMapField()) {
            JsonObject map = new JsonObject();
            map.addProperty("type", "object");
            map.add("additionalProperties", singleSchema(field.getMessageType().findFieldByName("value")));
            return map;
        }
        if (field.isRepeated()) {
            JsonObject array = new JsonObject();
            array.addProperty("type", "array");
            array.add("items", singleSchema(field));
            return array;
        }
        return singleSchema(field);
    }

    private JsonObject singleSchema(FieldDescriptor field) {
        return switch (field.getType()) {
            case INT32, SINT32, SFIXED32 -> typed("integer", "int32");
            case UINT32, FIXED32 -> {
                JsonObject schema = typed("integer", "int64");
                schema.addProperty("minimum", 0);
                schema.addProperty("maximum", 4_294_967_295L);
                yield schema;
            }
            case INT64, SINT64, SFIXED64 -> typed("string", "int64");
            case UINT64, FIXED64 -> typed("string", "uint64");
            case FLOAT -> typed("number", "float");
            case DOUBLE -> typed("number", "double");
            case BOOL -> typed("boolean", null);
            case STRING -> typed("string", null);
            case BYTES -> {
                JsonObject schema = typed("string", "byte");
                schema.addProperty("contentEncoding", "base64");
                yield schema;
            }
            case ENUM -> field.getEnumType().getFullName().equals("google.protobuf.NullValue") ? typed("null", null)
                                                                                                 : ref(field.getEnumType());
            case MESSAGE, GROUP -> ref(field.getMessageType());
        };
    }

    /* A $ref to a message's or an enum's schema, or the JSON form of a well-known type. */
    private JsonObject ref(Descriptors.GenericDescriptor type) {
        if (type instanceof Descriptors.Descriptor message && wellKnown(message)) {
            return wellKnownSchema(message);
        }
        if (described.add(type.getFullName())) {
            pending.push(type);
        }
        JsonObject ref = new JsonObject();
        ref.addProperty("$ref", REF + type.getFullName());
        return ref;
    }

    private static boolean wellKnown(Descriptors.Descriptor message) {
        return message.getFile().getPackage().equals("google.protobuf");
    }

    private JsonObject wellKnownSchema(Descriptors.Descriptor message) {
        String name = message.getName();
        return switch (name) {
            case "Timestamp" -> typed("string", "date-time");
            case "Duration" -> {
                JsonObject schema = typed("string", null);
                schema.addProperty("pattern", "^-?[0-9]+(\\.[0-9]{1,9})?s$");
                schema.addProperty("description", "Seconds with up to 9 fractional digits and the suffix s: 1.5s");
                yield schema;
            }
            case "FieldMask" -> {
                JsonObject schema = typed("string", null);
                schema.addProperty("description", "Field paths in lowerCamelCase, separated by commas");
                yield schema;
            }
            case "Struct", "Empty" -> typed("object", null);
            case "ListValue" -> typed("array", null);
            case "Value" -> new JsonObject();
            case "Any" -> {
                JsonObject schema = typed("object", null);
                JsonObject properties = new JsonObject();
                properties.add("@type", typed("string", null));
                schema.add("properties", properties);
                yield schema;
            }
            case "DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value", "BoolValue",
                 "StringValue", "BytesValue" -> {
                JsonObject schema = singleSchema(message.findFieldByName("value"));
                // a wrapper may be null: a value that is absent, not the default
                JsonArray types = new JsonArray();
                types.add(schema.get("type").getAsString());
                types.add("null");
                schema.add("type", types);
                yield schema;
            }
            default -> typed("object", null);
        };
    }

    private static JsonObject errorSchema() {
        JsonObject error = new JsonObject();
        error.addProperty("type", "object");
        JsonObject fields = new JsonObject();
        JsonObject code = typed("string", null);
        code.addProperty("description", "The gRPC status code name: NOT_FOUND, INVALID_ARGUMENT, ...");
        fields.add("code", code);
        fields.add("message", typed("string", null));
        JsonObject requestId = typed("string", null);
        requestId.addProperty("description", "The X-Request-Id of the request, for the logs");
        fields.add("requestId", requestId);
        JsonObject details = typed("array", null);
        JsonObject detail = typed("object", null);
        JsonObject detailFields = new JsonObject();
        detailFields.add("@type", typed("string", null));
        detail.add("properties", detailFields);
        details.add("items", detail);
        details.addProperty("description", "The service's google.rpc.Status details (RetryInfo, BadRequest, ...)");
        fields.add("details", details);
        error.add("properties", fields);
        JsonArray required = new JsonArray();
        required.add("code");
        required.add("message");
        required.add("requestId");
        error.add("required", required);

        JsonObject schema = typed("object", null);
        JsonObject properties = new JsonObject();
        properties.add("error", error);
        schema.add("properties", properties);
        JsonArray top = new JsonArray();
        top.add("error");
        schema.add("required", top);
        schema.addProperty("description", "Every error the gateway answers, whatever its status");
        return schema;
    }

    private static void error(JsonObject responses, String status, String description) {
        JsonObject response = new JsonObject();
        response.addProperty("description", description);
        JsonObject ref = new JsonObject();
        ref.addProperty("$ref", REF + ERROR);
        response.add("content", json(ref));
        responses.add(status, response);
    }

    private static JsonObject json(JsonObject schema) {
        JsonObject media = new JsonObject();
        media.add("schema", schema);
        JsonObject content = new JsonObject();
        content.add("application/json", media);
        return content;
    }

    private static JsonObject typed(String type, String format) {
        JsonObject schema = new JsonObject();
        schema.addProperty("type", type);
        if (format != null) {
            schema.addProperty("format", format);
        }
        return schema;
    }

    private static JsonObject sorted(JsonObject object) {
        JsonObject sorted = new JsonObject();
        new TreeMap<>(object.asMap()).forEach(sorted::add);
        return sorted;
    }

    private static Descriptors.MethodDescriptor method(Route route) {
        return ((ProtoMethodDescriptorSupplier) route.method().getSchemaDescriptor()).getMethodDescriptor();
    }

    /* A field path by JSON names: post_id to postId, post.author_id to post.authorId */
    private static String jsonPath(Descriptors.Descriptor message, String path) {
        return String.join(".", fieldPath(message, path).stream().map(FieldDescriptor::getJsonName).toList());
    }

    /* the fields a path variable names, by proto or JSON names, as the gateway reads it */
    private static List<FieldDescriptor> fieldPath(Descriptors.Descriptor message, String path) {
        List<FieldDescriptor> fields = Routes.fieldPath(message, path);
        if (fields.isEmpty()) {
            throw new IllegalArgumentException("no field " + path + " in " + message.getFullName());
        }
        return fields;
    }

    /* shelves/* to ^shelves/[^/]+$, ** to .+ */
    private static String segmentsPattern(String segments) {
        List<String> parts = new ArrayList<>();
        for (String segment : segments.split("/", -1)) {
            parts.add(switch (segment) {
                case "*" -> "[^/]+";
                case "**" -> ".+";
                default -> segment.replaceAll("([^A-Za-z0-9])", "\\\\$1");
            });
        }
        return "^" + String.join("/", parts) + "$";
    }

    private void describe(JsonObject target, Descriptors.GenericDescriptor element) {
        String comment = comments(element.getFile()).get(path(element));
        if (comment != null) {
            appendDescription(target, comment);
        }
    }

    private static void appendDescription(JsonObject target, String text) {
        String before = target.has("description") ? target.get("description").getAsString() + "\n\n" : "";
        target.addProperty("description", before + text);
    }

    /* The leading comments of a file's elements, by their source-info path. */
    private Map<List<Integer>, String> comments(Descriptors.FileDescriptor file) {
        return comments.computeIfAbsent(file, f -> {
            Map<List<Integer>, String> byPath = new HashMap<>();
            for (DescriptorProtos.SourceCodeInfo.Location location : f.toProto().getSourceCodeInfo().getLocationList()) {
                String text = location.getLeadingComments().strip();
                if (!text.isEmpty()) {
                    byPath.putIfAbsent(location.getPathList(), text.replaceAll("\\s*\\n\\s*", " "));
                }
            }
            return byPath;
        });
    }

    /* An element's path in its file's source info (descriptor.proto's field numbers and indexes). */
    private static List<Integer> path(Descriptors.GenericDescriptor element) {
        List<Integer> path = new ArrayList<>();
        switch (element) {
            case Descriptors.Descriptor message when message.getContainingType() != null -> {
                path.addAll(path(message.getContainingType()));
                path.addAll(List.of(DescriptorProtos.DescriptorProto.NESTED_TYPE_FIELD_NUMBER, message.getIndex()));
            }
            case Descriptors.Descriptor message ->
                    path.addAll(List.of(DescriptorProtos.FileDescriptorProto.MESSAGE_TYPE_FIELD_NUMBER, message.getIndex()));
            case Descriptors.FieldDescriptor field -> {
                path.addAll(path(field.getContainingType()));
                path.addAll(List.of(DescriptorProtos.DescriptorProto.FIELD_FIELD_NUMBER, field.getIndex()));
            }
            case Descriptors.EnumDescriptor type when type.getContainingType() != null -> {
                path.addAll(path(type.getContainingType()));
                path.addAll(List.of(DescriptorProtos.DescriptorProto.ENUM_TYPE_FIELD_NUMBER, type.getIndex()));
            }
            case Descriptors.EnumDescriptor type ->
                    path.addAll(List.of(DescriptorProtos.FileDescriptorProto.ENUM_TYPE_FIELD_NUMBER, type.getIndex()));
            case Descriptors.MethodDescriptor method -> path.addAll(List.of(
                    DescriptorProtos.FileDescriptorProto.SERVICE_FIELD_NUMBER, method.getService().getIndex(),
                    DescriptorProtos.ServiceDescriptorProto.METHOD_FIELD_NUMBER, method.getIndex()));
            default -> {
                // services and files carry no description here
            }
        }
        return path;
    }
}
