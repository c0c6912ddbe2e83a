package io.switchboard.gateway.transcode;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.switchboard.api.hub.v1.RegisterResponse;
import io.switchboard.api.post.v1.CreatePostRequest;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.ListPostsRequest;
import io.switchboard.api.post.v1.ListPostsResponse;
import io.switchboard.api.post.v1.Post;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.gateway.DynamicProtos;
import io.switchboard.gateway.routes.RouteTable;
import io.switchboard.schema.Route;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(10)
class TranscoderUnitTest {
    private static final RouteTable TABLE = RouteTable.of(List.of(UserServiceGrpc.getServiceDescriptor(),
                                                                  PostServiceGrpc.getServiceDescriptor()));
    private static final Route REGISTER = TABLE.match("POST", "/user/register").route();
    private static final Route CREATE_POST = TABLE.match("POST", "/post").route();
    private static final Route GET_POST = TABLE.match("GET", "/post/x").route();
    private static final Route LIST_POSTS = TABLE.match("GET", "/post").route();
    private static final Descriptors.Descriptor SAMPLE = DynamicProtos.sample();
    private static final Route SAMPLE_GET = sampleRoute(false);
    private static final Route SAMPLE_POST = sampleRoute(true);
    private static final byte[] NO_BODY = new byte[0];

    private final Transcoder transcoder = new Transcoder();

    // --- JSON bodies

    @Test
    void aJsonBodyFillsTheRequestUnderCamelCaseOrProtoFieldNames() throws Exception {
        Message camel = transcoder.request(REGISTER, Map.of(), Map.of(),
                                           json("{\"phoneNumber\":\"+491234\",\"userPassword\":\"secret\"}"));
        Message snake = transcoder.request(REGISTER, Map.of(), Map.of(),
                                           json("{\"phone_number\":\"+491234\",\"user_password\":\"secret\"}"));

        RegisterRequest expected = RegisterRequest.newBuilder().setPhoneNumber("+491234").setUserPassword("secret").build();
        assertThat(camel).isEqualTo(expected);
        assertThat(snake).isEqualTo(expected);
    }

    @Test
    void unknownJsonFieldsAreIgnored() throws Exception {
        Message request = transcoder.request(CREATE_POST, Map.of(), Map.of(),
                                             json("{\"title\":\"t\",\"content\":\"c\",\"author\":\"someone-else\","
                                                  + "\"__proto__\":{\"admin\":true},\"id\":[1,2]}"));

        assertThat(request).isEqualTo(CreatePostRequest.newBuilder().setTitle("t").setContent("c").build());
    }

    @Test
    void anEmptyBodyIsRefusedOnABodyRoute() {
        assertThatThrownBy(() -> transcoder.request(CREATE_POST, Map.of(), Map.of(), NO_BODY))
                .isInstanceOf(Transcoder.BadRequest.class)
                .hasMessage("a JSON request body is required");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{", "}", "[]", "null", "true", "0", "\"text\"", "{\"title\":", "{\"title\":\"a\",}",
                            "{\"title\":{\"a\":1}}", "{\"title\":[\"a\",\"b\"]}", "not json at all", "nul", " ",
                            "\u0000"})
    void malformedJsonIsABadRequestInOneLineWithoutJavaClassNames(String body) {
        assertThatThrownBy(() -> transcoder.request(CREATE_POST, Map.of(), Map.of(), json(body)))
                .isInstanceOf(Transcoder.BadRequest.class)
                .hasMessageStartingWith("malformed JSON body: ")
                .satisfies(e -> {
                    assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("Exception")
                            .doesNotContain("com.google").doesNotContain("java.");
                    assertThat(e.getMessage().length()).isLessThanOrEqualTo("malformed JSON body: ".length() + 123);
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"count\":\"x\"}", "{\"count\":1.5}", "{\"count\":2147483648}", "{\"count\":1e999}",
                            "{\"big\":\"9223372036854775808\"}", "{\"ubig\":-1}", "{\"usmall\":-1}",
                            "{\"flag\":\"yes\"}", "{\"kind\":{\"a\":1}}", "{\"tags\":\"a\"}", "{\"child\":\"a\"}",
                            "{\"ids\":[\"x\"]}"})
    void aJsonValueOfTheWrongTypeOrOutOfRangeIsABadRequest(String body) {
        assertThatThrownBy(() -> transcoder.request(SAMPLE_POST, Map.of(), Map.of(), json(body)))
                .isInstanceOf(Transcoder.BadRequest.class)
                .hasMessageStartingWith("malformed JSON body: ");
    }

    @Test
    void deeplyNestedJsonIsABadRequestNotAStackOverflow() {
        String nested = "{\"title\":\"t\",\"extra\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";

        assertThatThrownBy(() -> transcoder.request(CREATE_POST, Map.of(), Map.of(), json(nested)))
                .isInstanceOf(Transcoder.BadRequest.class)
                .hasMessageStartingWith("malformed JSON body: ")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("Exception").hasSizeLessThan(150));
    }

    @Test
    void anUnknownEnumNameIsIgnoredLikeAnUnknownField() throws Exception {
        Message request = transcoder.request(SAMPLE_POST, Map.of(), Map.of(), json("{\"kind\":\"THIRD\",\"count\":1}"));

        assertThat(((Descriptors.EnumValueDescriptor) request.getField(field("kind"))).getNumber()).isZero();
        assertThat(request.getField(field("count"))).isEqualTo(1);
    }

    @Test
    void sixtyFourBitIntsAreReadFromJsonStringsOrNumbersWithoutLosingPrecision() throws Exception {
        Message fromString = transcoder.request(SAMPLE_POST, Map.of(), Map.of(),
                                                json("{\"big\":\"9223372036854775807\",\"ubig\":\"18446744073709551615\","
                                                     + "\"ids\":[\"-9223372036854775808\",\"1\"]}"));
        Message fromNumber = transcoder.request(SAMPLE_POST, Map.of(), Map.of(), json("{\"big\":9007199254740993}"));

        assertThat(fromString.getField(field("big"))).isEqualTo(Long.MAX_VALUE);
        assertThat(fromString.getField(field("ubig"))).isEqualTo(-1L); // unsigned 2^64 - 1 in Java's long
        assertThat((List<Object>) fromString.getField(field("ids"))).containsExactly(Long.MIN_VALUE, 1L);
        assertThat(fromNumber.getField(field("big"))).isEqualTo(9007199254740993L);
    }

    @Test
    void enumsAreReadFromJsonByNameOrNumber() throws Exception {
        Message byName = transcoder.request(SAMPLE_POST, Map.of(), Map.of(), json("{\"kind\":\"SECOND\"}"));
        Message byNumber = transcoder.request(SAMPLE_POST, Map.of(), Map.of(), json("{\"kind\":1}"));

        assertThat(((Descriptors.EnumValueDescriptor) byName.getField(field("kind"))).getName()).isEqualTo("SECOND");
        assertThat(((Descriptors.EnumValueDescriptor) byNumber.getField(field("kind"))).getName()).isEqualTo("FIRST");
    }

    @Test
    void aBodyRouteIgnoresQueryParameters() throws Exception {
        Message request = transcoder.request(CREATE_POST, Map.of(), Map.of("title", List.of("from-query")),
                                             json("{\"title\":\"from-body\",\"content\":\"c\"}"));

        assertThat(request).isEqualTo(CreatePostRequest.newBuilder().setTitle("from-body").setContent("c").build());
    }

    @Test
    void aPathVariableOverridesTheBodyFieldOfTheSameName() throws Exception {
        Message request = transcoder.request(SAMPLE_POST, Map.of("name", "from%20path"), Map.of(),
                                             json("{\"name\":\"from body\",\"count\":3}"));

        assertThat(request.getField(field("name"))).isEqualTo("from path");
        assertThat(request.getField(field("count"))).isEqualTo(3);
    }

    @Test
    void aBodyThatIsNotUtf8StillParsesWithReplacementCharacters() throws Exception {
        byte[] body = {'{', '"', 't', 'i', 't', 'l', 'e', '"', ':', '"', (byte) 0xff, '"', '}'};

        Message request = transcoder.request(CREATE_POST, Map.of(), Map.of(), body);

        assertThat(request).isEqualTo(CreatePostRequest.newBuilder().setTitle("\ufffd").build());
    }

    // --- query parameters and path variables

    @Test
    void queryParametersFillFieldsUnderProtoOrCamelCaseNames() throws Exception {
        Message snake = transcoder.request(LIST_POSTS, Map.of(),
                                           query("author", "u1", "page_size", "10", "page_token", "t"), NO_BODY);
        Message camel = transcoder.request(LIST_POSTS, Map.of(),
                                           query("author", "u1", "pageSize", "10", "pageToken", "t"), NO_BODY);

        ListPostsRequest expected = ListPostsRequest.newBuilder().setAuthor("u1").setPageSize(10).setPageToken("t").build();
        assertThat(snake).isEqualTo(expected);
        assertThat(camel).isEqualTo(expected);
    }

    @Test
    void unknownQueryParametersAreIgnored() throws Exception {
        Message request = transcoder.request(LIST_POSTS, Map.of(), query("utm_source", "x", "PageSize", "1"), NO_BODY);

        assertThat(request).isEqualTo(ListPostsRequest.getDefaultInstance());
    }

    @Test
    void aRepeatedQueryParameterFillsARepeatedFieldInOrderAndTheLastOneWinsForASingleField() throws Exception {
        Map<String, List<String>> query = new LinkedHashMap<>();
        query.put("tags", List.of("b", "a", "b"));
        query.put("ids", List.of("9223372036854775807", "-1"));
        query.put("count", List.of("1", "2"));

        Message request = transcoder.request(SAMPLE_GET, Map.of(), query, NO_BODY);

        assertThat((List<Object>) request.getField(field("tags"))).containsExactly("b", "a", "b");
        assertThat((List<Object>) request.getField(field("ids"))).containsExactly(Long.MAX_VALUE, -1L);
        assertThat(request.getField(field("count"))).isEqualTo(2);
    }

    @Test
    void queryParametersOfEveryScalarKindTheUrlCanCarryAreConverted() throws Exception {
        Message request = transcoder.request(SAMPLE_GET, Map.of(),
                                             query("name", "a b+c", "count", "-2147483648", "big", "-9223372036854775808",
                                                   "flag", "true", "usmall", "4294967295",
                                                   "ubig", "18446744073709551615"), NO_BODY);

        assertThat(request.getField(field("name"))).isEqualTo("a b+c");
        assertThat(request.getField(field("count"))).isEqualTo(Integer.MIN_VALUE);
        assertThat(request.getField(field("big"))).isEqualTo(Long.MIN_VALUE);
        assertThat(request.getField(field("flag"))).isEqualTo(true);
        // unsigned to their top, as the JSON mapping reads them (Java keeps them in int and long)
        assertThat(request.getField(field("usmall"))).isEqualTo(-1);
        assertThat(request.getField(field("ubig"))).isEqualTo(-1L);
    }

    @ParameterizedTest
    @ValueSource(strings = {"count=abc", "count=2147483648", "count=1.0", "count=", "count= 1", "big=9223372036854775808",
                            "big=0x10", "flag=1", "flag=TRUE", "flag=yes", "flag=", "kind=THIRD", "kind=7", "kind=",
                            "ratio=NaN", "ratio=Infinity", "ratio=1e999", "ratio=0x1p3", "ratio=1d", "ratio= 1",
                            "ratio=1,5", "child.count=x", "small_ratio=1e39", "small_ratio=-1e39", "usmall=-1",
                            "usmall=4294967296", "ubig=-1", "ubig=18446744073709551616"})
    void aQueryValueThatIsNotItsFieldsTypeIsABadRequestNamingTheParameter(String parameter) {
        String name = parameter.substring(0, parameter.indexOf('='));
        String value = parameter.substring(parameter.indexOf('=') + 1);

        assertThatThrownBy(() -> transcoder.request(SAMPLE_GET, Map.of(), query(name, value), NO_BODY))
                .isInstanceOf(Transcoder.BadRequest.class)
                .hasMessageStartingWith("parameter " + name + " must be ")
                .hasMessageEndingWith("got \"" + value + "\"");
    }

    @Test
    void queryParametersFillEnumsDecimalsAndFieldsOfNestedMessages() throws Exception {
        Message request = transcoder.request(SAMPLE_GET, Map.of(),
                                             query("kind", "SECOND", "ratio", "-1.5e3", "child.name", "inner",
                                                   "child.child.count", "7", "child.pageToken", "t",
                                                   "small_ratio", "0.25"), NO_BODY);

        assertThat(((Descriptors.EnumValueDescriptor) request.getField(field("kind"))).getName()).isEqualTo("SECOND");
        assertThat(request.getField(field("ratio"))).isEqualTo(-1500.0);
        assertThat(request.getField(field("small_ratio"))).isEqualTo(0.25f);
        Message child = (Message) request.getField(field("child"));
        assertThat(child.getField(field("name"))).isEqualTo("inner");
        assertThat(child.getField(field("page_token"))).isEqualTo("t");
        assertThat(((Message) child.getField(field("child"))).getField(field("count"))).isEqualTo(7);
        Message byNumber = transcoder.request(SAMPLE_GET, Map.of(), query("kind", "1"), NO_BODY);
        assertThat(((Descriptors.EnumValueDescriptor) byNumber.getField(field("kind"))).getName()).isEqualTo("FIRST");
    }

    @ParameterizedTest
    @ValueSource(strings = {"child", "child.child", "blob"})
    void aQueryParameterForAFieldTheUrlCannotCarryIsABadRequest(String name) {
        assertThatThrownBy(() -> transcoder.request(SAMPLE_GET, Map.of(), query(name, "1"), NO_BODY))
                .isInstanceOf(Transcoder.BadRequest.class)
                .hasMessage("parameter " + name + " cannot be given in the URL");
    }

    @Test
    void aHugeBadQueryValueIsCutShortInTheMessage() {
        String value = "9".repeat(100_000) + "\n\r\t";

        assertThatThrownBy(() -> transcoder.request(LIST_POSTS, Map.of(), query("pageSize", value), NO_BODY))
                .isInstanceOf(Transcoder.BadRequest.class)
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(200).doesNotContain("\n").endsWith("...\""));
    }

    @Test
    void aPathVariableIsPercentDecodedAndAPlusStaysAPlus() throws Exception {
        assertThat(transcoder.request(GET_POST, Map.of("id", "a%2Fb%20c+d%E2%82%AC"), Map.of(), NO_BODY))
                .isEqualTo(GetPostRequest.newBuilder().setId("a/b c+d\u20ac").build());
    }

    @Test
    void aPathVariableOverridesAQueryParameterOfTheSameName() throws Exception {
        assertThat(transcoder.request(GET_POST, Map.of("id", "from-path"), query("id", "from-query"), NO_BODY))
                .isEqualTo(GetPostRequest.newBuilder().setId("from-path").build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"%", "%zz", "a%2", "%%41", "%G0"})
    void malformedPercentEncodingInThePathIsABadRequest(String raw) {
        assertThatThrownBy(() -> transcoder.request(GET_POST, Map.of("id", raw), Map.of(), NO_BODY))
                .isInstanceOf(Transcoder.BadRequest.class)
                .hasMessage("malformed percent-encoding in the path");
    }

    @Test
    void aPathVariableOfANumericFieldIsConvertedOrRefused() throws Exception {
        assertThat(transcoder.request(SAMPLE_GET, Map.of("big", "%2D9"), Map.of(), NO_BODY).getField(field("big")))
                .isEqualTo(-9L);
        assertThatThrownBy(() -> transcoder.request(SAMPLE_GET, Map.of("count", "x"), Map.of(), NO_BODY))
                .isInstanceOf(Transcoder.BadRequest.class)
                .hasMessage("parameter count must be int, got \"x\"");
    }

    // --- responses

    @Test
    void aResponsePrintsCompactCamelCaseJsonWithEveryFieldIncludingEmptyOnes() {
        assertThat(text(transcoder.response(Post.newBuilder().setId("1").setTitle("t").build())))
                .isEqualTo("{\"id\":\"1\",\"author\":\"\",\"title\":\"t\",\"content\":\"\",\"createdAt\":\"\"}");
        assertThat(text(transcoder.response(ListPostsResponse.getDefaultInstance())))
                .isEqualTo("{\"posts\":[],\"nextPageToken\":\"\"}");
    }

    @Test
    void aResponsePrintsSixtyFourBitIntsAsStringsAndEnumsByName() {
        assertThat(text(transcoder.response(RegisterResponse.newBuilder().setLeaseId(Long.MAX_VALUE).setTtlSeconds(10)
                                                    .setRevision(1).build())))
                .isEqualTo("{\"leaseId\":\"9223372036854775807\",\"ttlSeconds\":10,\"revision\":\"1\"}");
        DynamicMessage sample = DynamicMessage.newBuilder(SAMPLE)
                .setField(field("ubig"), -1L)
                .setField(field("kind"), SAMPLE.getFile().findEnumTypeByName("Kind").findValueByName("SECOND"))
                .build();
        assertThat(text(transcoder.response(sample)))
                .contains("\"ubig\":\"18446744073709551615\"")
                .contains("\"kind\":\"SECOND\"")
                .contains("\"pageToken\":\"\"");
    }

    @Test
    void aResponseEscapesWhatItPrints() {
        String printed = text(transcoder.response(Post.newBuilder().setTitle("\"</script>\u0000\n\u2028").build()));

        assertThat(printed).contains("\"title\":\"\\\"\\u003c/script\\u003e\\u0000\\n\\u2028\"");
    }

    private static Route sampleRoute(String httpMethod, String bodyField, String responseBody) {
        Message prototype = DynamicMessage.getDefaultInstance(SAMPLE);
        return new Route(httpMethod, "/sample/{name}", "demo", null, prototype, !bodyField.isEmpty(), false, 200, false,
                         false, 5000, Set.of(), bodyField, responseBody, "", "");
    }

    private static Route sampleRoute(boolean body) {
        Message prototype = DynamicMessage.getDefaultInstance(SAMPLE);
        return new Route(body ? "POST" : "GET", "/sample", "demo", null, prototype, body, false, 200, !body, false, 5000,
                         Set.of(), "", "", "", "");
    }

    private static Descriptors.FieldDescriptor field(String name) {
        return SAMPLE.findFieldByName(name);
    }

    private static byte[] json(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static Map<String, List<String>> query(String... namesAndValues) {
        Map<String, List<String>> query = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            query.put(namesAndValues[i], List.of(namesAndValues[i + 1]));
        }
        return query;
    }
}
