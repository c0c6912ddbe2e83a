package io.switchboard.gateway.docs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import com.google.api.HttpRule;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import io.switchboard.gateway.DynamicProtos;
import io.switchboard.gateway.routes.RouteTable;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI document of the mapping features beyond the example services: a multi-segment variable with a custom
 * verb, a nested path variable, a body field with a response field, and a message with every kind of field.
 */
class OpenApiUnitTest {
    private static final RouteTable TABLE = RouteTable.of(List.of(DynamicProtos.service(
            "demo",
            DynamicProtos.get("/v1/{name=shelves/*}:publish"),
            DynamicProtos.get("/sample/{child.name}"),
            HttpRule.newBuilder().setPost("/sample").setBody("child").setResponseBody("child").build())));
    private static final OpenAPI API = parse(OpenApi.of(TABLE, "test", "1"));

    @Test
    void fieldsAreTypedAsTheProtobufJsonMappingWritesThem() {
        Map<String, Schema> sample = API.getComponents().getSchemas().get("test.Sample").getProperties();
        assertThat(types(sample.get("big"))).containsExactly("string");
        assertThat(sample.get("big").getFormat()).isEqualTo("int64");
        assertThat(types(sample.get("ubig"))).containsExactly("string");
        assertThat(types(sample.get("usmall"))).containsExactly("integer");
        assertThat(sample.get("usmall").getMinimum()).isZero();
        assertThat(sample.get("count").getFormat()).isEqualTo("int32");
        assertThat(sample.get("smallRatio").getFormat()).isEqualTo("float");
        assertThat(sample.get("kind").get$ref()).isEqualTo("#/components/schemas/test.Kind");
        assertThat(API.getComponents().getSchemas().get("test.Kind").getEnum()).isNotEmpty()
                .allMatch(value -> value instanceof String);
        assertThat(types(sample.get("ids"))).containsExactly("array");
        assertThat(types(sample.get("ids").getItems())).containsExactly("string");
        assertThat(types(sample.get("updateMask"))).containsExactly("string");
        // a message that holds itself is one schema that refers to itself
        assertThat(sample.get("child").get$ref()).isEqualTo("#/components/schemas/test.Sample");
        assertThat(sample).containsKey("pageToken").doesNotContainKey("page_token");
    }

    @Test
    void pathsParametersAndBodiesFollowTheRules() {
        Map<String, Operation> operations = new TreeMap<>();
        API.getPaths().forEach((path, item) -> item.readOperationsMap()
                .forEach((method, operation) -> operations.put(method.name() + " " + path, operation)));
        assertThat(operations).containsOnlyKeys("GET /v1/{name}:publish", "GET /sample/{child.name}", "POST /sample");

        Parameter name = operations.get("GET /v1/{name}:publish").getParameters().get(0);
        assertThat(name.getName()).isEqualTo("name");
        assertThat(name.getIn()).isEqualTo("path");
        assertThat(name.getDescription()).contains("shelves/*");

        Map<String, Parameter> query = new TreeMap<>();
        operations.get("GET /sample/{child.name}").getParameters().forEach(p -> query.put(p.getIn() + " " + p.getName(), p));
        assertThat(query).containsKeys("path child.name", "query name", "query count", "query kind", "query tags",
                                       "query updateMask", "query pageToken")
                .doesNotContainKey("query child.name");
        assertThat(query.get("query tags").getExplode()).isTrue();
        assertThat(types(query.get("query tags").getSchema())).containsExactly("array");

        // body: "child": the body is the child; the other fields come from the query; response_body: the child alone
        Operation post = operations.get("POST /sample");
        assertThat(post.getRequestBody().getContent().get("application/json").getSchema().get$ref())
                .isEqualTo("#/components/schemas/test.Sample");
        assertThat(post.getParameters()).extracting(Parameter::getName).contains("name", "count").doesNotContain("child");
        assertThat(post.getResponses().get("200").getContent().get("application/json").getSchema().get$ref())
                .isEqualTo("#/components/schemas/test.Sample");
        assertThat(post.getResponses()).containsKeys("400", "413", "415", "default").doesNotContainKey("401");
    }

    @Test
    void theParserFindsWhatIsWrongWithADocumentAndEveryTypeWrittenIsAJsonSchemaType() {
        // swagger-parser checks the document's structure (it does not check the types inside schemas)
        JsonObject broken = OpenApi.of(TABLE, "test", "1");
        broken.getAsJsonObject("paths").getAsJsonObject("/sample/{child.name}").getAsJsonObject("get")
                .getAsJsonArray("parameters").get(0).getAsJsonObject().remove("in");
        broken.remove("info");
        assertThat(new OpenAPIV3Parser().readContents(broken.toString()).getMessages()).hasSizeGreaterThanOrEqualTo(2);

        // so the types are checked here: each "type" is one of JSON Schema's
        List<String> types = new ArrayList<>();
        JsonObject document = OpenApi.of(TABLE, "test", "1");
        // a security scheme's type is OpenAPI's (http), not a schema's
        document.getAsJsonObject("components").remove("securitySchemes");
        collectTypes(document, types);
        assertThat(types).isNotEmpty().allMatch(t -> Set.of("object", "array", "string", "integer", "number", "boolean",
                                                            "null").contains(t));
    }

    private static void collectTypes(JsonElement element, List<String> types) {
        if (element.isJsonObject()) {
            element.getAsJsonObject().entrySet().forEach(e -> {
                if (e.getKey().equals("type") && !element.getAsJsonObject().has("in")) {
                    if (e.getValue().isJsonArray()) {
                        e.getValue().getAsJsonArray().forEach(t -> types.add(t.getAsString()));
                    } else if (e.getValue().isJsonPrimitive()) {
                        types.add(e.getValue().getAsString());
                    }
                }
                collectTypes(e.getValue(), types);
            });
        } else if (element.isJsonArray()) {
            element.getAsJsonArray().forEach(e -> collectTypes(e, types));
        }
    }

    @Test
    void routesItCannotShowAreLeftOutWithTheirReasonAndTheRestStays() {
        RouteTable table = RouteTable.of(List.of(DynamicProtos.service(
                "demo",
                DynamicProtos.get("/v1/{name=shelves/*}"),
                DynamicProtos.get("/v1/{name=books/*}"),
                DynamicProtos.get("/docs/{name}"),
                // a JSON name in a path variable, as the gateway accepts it
                DynamicProtos.get("/tokens/{pageToken}"))));
        List<String> leftOut = new ArrayList<>();
        OpenAPI api = parse(OpenApi.of(table, "test", "1", path -> path.startsWith("/docs/"), leftOut::add));

        assertThat(api.getPaths()).containsOnlyKeys("/v1/{name}", "/tokens/{pageToken}");
        assertThat(leftOut).hasSize(2);
        assertThat(leftOut).anyMatch(why -> why.startsWith("GET /docs/{name} of demo") && why.contains("answers that path itself"));
        assertThat(leftOut).anyMatch(why -> why.startsWith("GET /v1/{name=books/*} of demo")
                                            && why.contains("another route is GET /v1/{name}"));
        Parameter name = api.getPaths().get("/v1/{name}").getGet().getParameters().get(0);
        assertThat(name.getSchema().getPattern()).isEqualTo("^shelves/[^/]+$");
        assertThat("shelves/12").matches(name.getSchema().getPattern());
        assertThat(api.getPaths().get("/tokens/{pageToken}").getGet().getParameters())
                .extracting(p -> p.getIn() + " " + p.getName()).contains("path pageToken").doesNotContain("query pageToken");
    }

    @Test
    void queryParametersAreOnlyThoseTheUrlCanCarryAndUnsignedHaveTheirRange() {
        Map<String, Schema> sample = API.getComponents().getSchemas().get("test.Sample").getProperties();
        assertThat(sample.get("usmall").getMaximum()).isEqualByComparingTo("4294967295");
        // bytes are a field of the message (base64), but the gateway takes none from the URL: no query parameter
        assertThat(sample.get("blob").getFormat()).isEqualTo("byte");
        assertThat(API.getPaths().get("/sample/{child.name}").getGet().getParameters()).extracting(Parameter::getName)
                .contains("usmall").doesNotContain("blob");
    }

    @Test
    void anEmptyTableIsAValidDocumentWithNoPaths() {
        OpenAPI empty = parse(OpenApi.of(RouteTable.EMPTY, "test", "1"));
        assertThat(empty.getPaths()).isNullOrEmpty();
        assertThat(empty.getComponents().getSchemas()).containsOnlyKeys("gateway-error");
    }

    private static Set<String> types(Schema<?> schema) {
        return schema.getTypes();
    }

    private static OpenAPI parse(JsonObject document) {
        SwaggerParseResult result = new OpenAPIV3Parser().readContents(document.toString());
        assertThat(result.getMessages()).as(document.toString()).isEmpty();
        return result.getOpenAPI();
    }
}
