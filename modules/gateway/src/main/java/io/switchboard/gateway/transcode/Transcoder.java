package io.switchboard.gateway.transcode;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.switchboard.schema.Route;
import io.switchboard.schema.Routes;

/**
 * HTTP/JSON to protobuf and back, with protobuf-java-util's JsonFormat, as the route's {@code google.api.http} rule
 * says. The JSON body fills the whole request message, or the one field its {@code body} names (lowerCamelCase or
 * proto field names; unknown fields ignored). Path variables and, unless the body is the whole message, query
 * parameters fill the fields they name, through nested messages ({@code post.id}; proto or JSON names): strings,
 * integers, booleans, decimal numbers, enum values (by name or number) and field masks, repeated fields once per
 * value. Responses print lowerCamelCase JSON with every field, empty ones included: the whole message, or the field
 * its {@code response_body} names. Thread safe.
 */
public final class Transcoder {
    private static final Gson GSON = new Gson();
    private static final Pattern DECIMAL = Pattern.compile("-?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d{1,3})?");

    private final JsonFormat.Parser parser = JsonFormat.parser().ignoringUnknownFields();
    private final JsonFormat.Printer printer = JsonFormat.printer()
            .omittingInsignificantWhitespace()
            .alwaysPrintFieldsWithNoPresence();

    /**
     * Builds the request message of a route.
     *
     * @param route     the route
     * @param variables path variables (raw, percent-encoded)
     * @param query     query parameters (decoded), used by routes without a body or whose body is one field (for
     *                  the fields the body and the path do not fill)
     * @param body      the JSON body, used only by routes with one
     * @return the request
     * @throws BadRequest with a message for the client
     */
    public Message request(Route route, Map<String, String> variables, Map<String, List<String>> query, byte[] body)
            throws BadRequest {
        Message.Builder builder = route.requestType().newBuilderForType();
        if (route.body()) {
            if (body.length == 0) {
                throw new BadRequest("a JSON request body is required");
            }
            String json = new String(body, StandardCharsets.UTF_8);
            if (route.bodyField().isEmpty()) {
                merge(json, builder);
            } else {
                fillField(route, json, builder, query);
            }
        }
        if (!route.body() || !route.bodyField().isEmpty()) {
            for (Map.Entry<String, List<String>> parameter : query.entrySet()) {
                List<Descriptors.FieldDescriptor> path = Routes.fieldPath(builder.getDescriptorForType(), parameter.getKey());
                if (!path.isEmpty() && !path.get(0).getName().equals(route.bodyField())) {
                    for (String value : parameter.getValue()) {
                        set(builder, path, parameter.getKey(), value);
                    }
                }
            }
        }
        for (Map.Entry<String, String> variable : variables.entrySet()) {
            List<Descriptors.FieldDescriptor> path = Routes.fieldPath(builder.getDescriptorForType(), variable.getKey());
            if (path.isEmpty()) {
                throw new IllegalStateException(route.template() + ": no field " + variable.getKey());
            }
            set(builder, path, variable.getKey(), decode(variable.getValue()));
        }
        return builder.build();
    }

    /**
     * The JSON of a route's response: the whole message, or the field its {@code response_body} names.
     *
     * @param route    the route
     * @param response the response message
     * @return UTF-8 JSON
     */
    public byte[] response(Route route, Message response) {
        if (route.responseBody().isEmpty()) {
            return response(response);
        }
        Descriptors.FieldDescriptor field = response.getDescriptorForType().findFieldByName(route.responseBody());
        JsonElement whole = JsonParser.parseString(new String(response(response), StandardCharsets.UTF_8));
        // every field is printed, so the field is there; the same escaping as the printer's (\u003c for <)
        return GSON.toJson(whole.getAsJsonObject().get(field.getJsonName())).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The JSON of a response.
     *
     * @param response the response message
     * @return UTF-8 JSON
     */
    public byte[] response(Message response) {
        try {
            return printer.print(response).getBytes(StandardCharsets.UTF_8);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print " + response.getDescriptorForType().getFullName(), e);
        }
    }

    private void merge(String json, Message.Builder builder) throws BadRequest {
        try {
            parser.merge(json, builder);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new BadRequest("malformed JSON body: " + brief(e.getMessage()));
        }
    }

    /*
     * body: "field": the JSON body is that field's value. It is read as one JSON value first, so that no text of it
     * can reach another field, then merged as {"field": value}. A PATCH whose request has an update_mask field the
     * query did not fill gets the paths the body sets, as grpc-gateway derives them.
     */
    private void fillField(Route route, String json, Message.Builder builder, Map<String, List<String>> query)
            throws BadRequest {
        JsonElement value;
        try {
            value = JsonParser.parseString(json);
        } catch (JsonParseException e) {
            throw new BadRequest("malformed JSON body: " + brief(e.getMessage()));
        }
        Descriptors.FieldDescriptor field = builder.getDescriptorForType().findFieldByName(route.bodyField());
        JsonObject wrapped = new JsonObject();
        wrapped.add(field.getName(), value);
        merge(wrapped.toString(), builder);
        Descriptors.FieldDescriptor mask = builder.getDescriptorForType().findFieldByName("update_mask");
        if ("PATCH".equals(route.httpMethod()) && mask != null && !mask.isRepeated()
            && mask.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE
            && mask.getMessageType().getFullName().equals("google.protobuf.FieldMask")
            && !query.containsKey("update_mask") && !query.containsKey("updateMask")
            && field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE && value.isJsonObject()) {
            List<String> paths = new ArrayList<>();
            maskPaths(value.getAsJsonObject(), field.getMessageType(), "", paths);
            Message.Builder fieldMask = DynamicMessage.newBuilder(mask.getMessageType());
            Descriptors.FieldDescriptor pathsField = mask.getMessageType().findFieldByName("paths");
            paths.forEach(path -> fieldMask.addRepeatedField(pathsField, path));
            builder.setField(mask, fieldMask.build());
        }
    }

    /* The field paths a JSON object sets: a nested object of a message field (not a well-known type) goes deeper. */
    private static void maskPaths(JsonObject object, Descriptors.Descriptor type, String prefix, List<String> paths) {
        for (Map.Entry<String, JsonElement> entry : object.entrySet()) {
            Descriptors.FieldDescriptor field = type.findFieldByName(entry.getKey());
            if (field == null) {
                field = type.getFields().stream().filter(f -> f.getJsonName().equals(entry.getKey())).findFirst()
                        .orElse(null);
            }
            if (field == null) {
                continue;
            }
            String path = prefix + field.getName();
            if (field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE && !field.isRepeated()
                && !field.getMessageType().getFullName().startsWith("google.protobuf.")
                && entry.getValue().isJsonObject() && !entry.getValue().getAsJsonObject().isEmpty()) {
                maskPaths(entry.getValue().getAsJsonObject(), field.getMessageType(), path + ".", paths);
            } else {
                paths.add(path);
            }
        }
    }

    /* Sets the field at the end of a field path, through the messages on the way (dynamic builders have no nested
     * builders: each message on the way is rebuilt). */
    private static void set(Message.Builder builder, List<Descriptors.FieldDescriptor> path, String name, String value)
            throws BadRequest {
        Descriptors.FieldDescriptor head = path.get(0);
        if (path.size() == 1) {
            set(builder, head, name, value);
            return;
        }
        Message.Builder child = ((Message) builder.getField(head)).toBuilder();
        set(child, path.subList(1, path.size()), name, value);
        builder.setField(head, child.build());
    }

    private static void set(Message.Builder builder, Descriptors.FieldDescriptor field, String name, String value)
            throws BadRequest {
        if (!field.isRepeated() && field.getJavaType() == Descriptors.FieldDescriptor.JavaType.MESSAGE
            && field.getMessageType().getFullName().equals("google.protobuf.FieldMask")) {
            // a field mask in the URL: its paths, comma-separated, as in its JSON form
            Message.Builder mask = DynamicMessage.newBuilder(field.getMessageType());
            Descriptors.FieldDescriptor paths = field.getMessageType().findFieldByName("paths");
            for (String path : value.split(",")) {
                if (!path.isBlank()) {
                    mask.addRepeatedField(paths, path.trim());
                }
            }
            builder.setField(field, mask.build());
            return;
        }
        Object converted;
        try {
            converted = switch (field.getJavaType()) {
            case STRING -> value;
            case INT -> unsigned(field) ? Integer.parseUnsignedInt(value) : Integer.parseInt(value);
            case LONG -> unsigned(field) ? Long.parseUnsignedLong(value) : Long.parseLong(value);
            case BOOLEAN -> switch (value) {
                case "true" -> true;
                case "false" -> false;
                default -> throw new NumberFormatException();
            };
            case DOUBLE -> decimal(value);
            case FLOAT -> toFloat(decimal(value));
            case ENUM -> enumValue(field, value);
            default -> throw new BadRequest("parameter " + name + " cannot be given in the URL");
            };
        } catch (NumberFormatException e) {
            throw new BadRequest("parameter " + name + " must be " + field.getJavaType().name().toLowerCase()
                                 + ", got \"" + brief(value) + "\"");
        }
        if (field.isRepeated()) {
            builder.addRepeatedField(field, converted);
        } else {
            builder.setField(field, converted);
        }
    }

    /* Only plain decimal numbers within range: no NaN, Infinity, hexadecimal floats or type suffixes from a URL. */
    private static double decimal(String value) {
        if (!DECIMAL.matcher(value).matches()) {
            throw new NumberFormatException();
        }
        double parsed = Double.parseDouble(value);
        if (!Double.isFinite(parsed)) {
            throw new NumberFormatException();
        }
        return parsed;
    }

    private static float toFloat(double value) {
        if (Math.abs(value) > Float.MAX_VALUE) {
            throw new NumberFormatException();
        }
        return (float) value;
    }

    /* An enum value by name, or by the number of a value the enum declares. */
    private static Descriptors.EnumValueDescriptor enumValue(Descriptors.FieldDescriptor field, String value) {
        Descriptors.EnumValueDescriptor byName = field.getEnumType().findValueByName(value);
        if (byName != null) {
            return byName;
        }
        Descriptors.EnumValueDescriptor byNumber = field.getEnumType().findValueByNumber(Integer.parseInt(value));
        if (byNumber == null) {
            throw new NumberFormatException();
        }
        return byNumber;
    }

    private static String decode(String raw) throws BadRequest {
        try {
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new BadRequest("malformed percent-encoding in the path");
        }
    }

    /* One line, without the Java class names parsers put in their messages ("com.google...Exception: "). */
    private static String brief(String text) {
        String oneLine = String.valueOf(text).replaceAll("\\s+", " ").replaceAll("(?:[a-z]\\w*\\.)+\\w*Exception: ", "");
        return oneLine.length() > 120 ? oneLine.substring(0, 120) + "..." : oneLine;
    }

    /**
     * A request that cannot be turned into a call; the message is for the client.
     */
    public static final class BadRequest extends Exception {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message, null, false, false);
        }
    }

    /* uint32, fixed32, uint64, fixed64: 0 to 2^32-1 or 2^64-1 in the URL, as the JSON mapping reads them */
    private static boolean unsigned(Descriptors.FieldDescriptor field) {
        return switch (field.getType()) {
            case UINT32, FIXED32, UINT64, FIXED64 -> true;
            default -> false;
        };
    }
}
