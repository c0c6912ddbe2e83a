package io.switchboard.schema;

import java.util.List;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(10)
class PathTemplateUnitTest {

    @Test
    void aLiteralTemplateMatchesExactlyItsSegments() {
        PathTemplate template = PathTemplate.parse("/user/me");
        Map<String, String> variables = new HashMap<>();

        assertThat(template.match(new String[] {"user", "me"}, variables)).isTrue();
        assertThat(variables).isEmpty();
        assertThat(template.match(new String[] {"user", "you"}, variables)).isFalse();
        assertThat(template.match(new String[] {"user"}, variables)).isFalse();
        assertThat(template.match(new String[] {"user", "me", "x"}, variables)).isFalse();
        assertThat(template.match(new String[] {"User", "me"}, variables)).isFalse();
        assertThat(template.match(new String[] {}, variables)).isFalse();
    }

    @Test
    void literalSegmentsCompareTheRawTextSoAnEncodedLetterIsAnotherSegment() {
        PathTemplate template = PathTemplate.parse("/user/me");

        assertThat(template.match(PathTemplate.split("/user/m%65"), new HashMap<>())).isFalse();
    }

    @Test
    void aVariableTakesOneNonEmptySegmentUnderItsFieldName() {
        PathTemplate template = PathTemplate.parse("/post/{id}");
        Map<String, String> variables = new HashMap<>();

        assertThat(template.match(new String[] {"post", "42"}, variables)).isTrue();
        assertThat(variables).containsExactly(Map.entry("id", "42"));

        Map<String, String> none = new HashMap<>();
        assertThat(template.match(new String[] {"post", ""}, none)).isFalse();
        assertThat(template.match(new String[] {"post"}, none)).isFalse();
        assertThat(template.match(new String[] {"post", "42", "x"}, none)).isFalse();
        assertThat(none).isEmpty();
    }

    @Test
    void aVariableKeepsItsSegmentRawSoAnEncodedSlashStaysInsideIt() {
        Map<String, String> variables = new HashMap<>();

        assertThat(PathTemplate.parse("/post/{id}").match(PathTemplate.split("/post/a%2Fb%20c"), variables)).isTrue();
        assertThat(variables).containsExactly(Map.entry("id", "a%2Fb%20c"));
    }

    @Test
    void aTemplateThatFailsAfterItsFirstVariableWritesNoVariables() {
        // RouteTable hands one map to every candidate: a near miss must leave nothing behind in it
        PathTemplate template = PathTemplate.parse("/a/{first}/b/{second}");
        Map<String, String> variables = new LinkedHashMap<>();

        assertThat(template.match(new String[] {"a", "1", "c", "2"}, variables)).isFalse();
        assertThat(template.match(new String[] {"a", "1", "b", ""}, variables)).isFalse();
        assertThat(variables).isEmpty();

        assertThat(template.match(new String[] {"a", "1", "b", "2"}, variables)).isTrue();
        assertThat(variables).containsExactly(Map.entry("first", "1"), Map.entry("second", "2"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/post/{id*}", "/x/{}", "/x/{a", "/x/a}", "/x/{a}{b}", "x/y", "/x/**/y", "/x/{a}/{a}",
                            "/x/{a={b}}", "/x/{a=}", "/x:", "/x//y", "/x/{1a}", "/x/{a.}", "/x/a b", "/x/{a=**}/y",
                            "/x:a/b", "/x/*:"})
    void templatesOutsideTheGrammarAreRejectedWithTheirReason(String text) {
        assertThatThrownBy(() -> PathTemplate.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unsupported path template " + text + ": ");
    }

    @Test
    void aPatternVariableBindsTheSegmentsItMatchesWithTheirSlashes() {
        PathTemplate template = PathTemplate.parse("/v1/{name=shelves/*/books/*}");
        Map<String, String> variables = new HashMap<>();

        assertThat(template.match(PathTemplate.split("/v1/shelves/s1/books/b%2F2"), variables)).isTrue();
        assertThat(variables).containsExactly(Map.entry("name", "shelves/s1/books/b%2F2"));
        assertThat(template.match(PathTemplate.split("/v1/shelves/s1/books"), new HashMap<>())).isFalse();
        assertThat(template.match(PathTemplate.split("/v1/racks/s1/books/b"), new HashMap<>())).isFalse();
        assertThat(template.singleSegment("name")).isFalse();
        assertThat(PathTemplate.parse("/v1/{id=*}").singleSegment("id")).isTrue();
        assertThat(template.shape()).isEqualTo("/v1/shelves/*/books/*");
    }

    @Test
    void aDoubleStarTakesTheRestOfThePathIncludingNothing() {
        PathTemplate template = PathTemplate.parse("/files/{path=**}");
        Map<String, String> variables = new HashMap<>();

        assertThat(template.match(PathTemplate.split("/files/a/b/c.txt"), variables)).isTrue();
        assertThat(variables).containsExactly(Map.entry("path", "a/b/c.txt"));
        variables.clear();
        assertThat(template.match(PathTemplate.split("/files"), variables)).isTrue();
        assertThat(variables).containsExactly(Map.entry("path", ""));
        assertThat(PathTemplate.parse("/x/*/**").match(PathTemplate.split("/x"), new HashMap<>())).isFalse();
        assertThat(PathTemplate.parse("/x/*/**").match(PathTemplate.split("/x/a/b/c"), new HashMap<>())).isTrue();
    }

    @Test
    void aCustomVerbMustEndThePathAndIsNotPartOfTheLastVariable() {
        PathTemplate cancel = PathTemplate.parse("/v1/{name=operations/*}:cancel");
        Map<String, String> variables = new HashMap<>();

        assertThat(cancel.match(PathTemplate.split("/v1/operations/o1:cancel"), variables)).isTrue();
        assertThat(variables).containsExactly(Map.entry("name", "operations/o1"));
        assertThat(cancel.match(PathTemplate.split("/v1/operations/o1"), new HashMap<>())).isFalse();
        assertThat(cancel.match(PathTemplate.split("/v1/operations/o1:undo"), new HashMap<>())).isFalse();
        assertThat(cancel.match(PathTemplate.split("/v1/operations/:cancel"), new HashMap<>())).isFalse();
        assertThat(cancel.shape()).isEqualTo("/v1/operations/*:cancel");
        // without a verb, a colon is an ordinary character of the segment
        Map<String, String> plain = new HashMap<>();
        assertThat(PathTemplate.parse("/v1/{id}").match(PathTemplate.split("/v1/o1:cancel"), plain)).isTrue();
        assertThat(plain).containsExactly(Map.entry("id", "o1:cancel"));
        // the verb template is tried first
        assertThat(PathTemplate.parse("/v1/{id}:cancel").compareSpecificity(PathTemplate.parse("/v1/{id}"))).isNegative();
        assertThat(PathTemplate.parse("/:ping").match(PathTemplate.split("/:ping"), new HashMap<>())).isFalse();
    }

    @Test
    void aNestedFieldPathIsAVariableName() {
        PathTemplate template = PathTemplate.parse("/post/{post.id}/comments/{comment_id}");
        Map<String, String> variables = new LinkedHashMap<>();

        assertThat(template.variables()).containsExactly("post.id", "comment_id");
        assertThat(template.match(PathTemplate.split("/post/p1/comments/c2"), variables)).isTrue();
        assertThat(variables).containsExactly(Map.entry("post.id", "p1"), Map.entry("comment_id", "c2"));
        assertThat(template.shape()).isEqualTo("/post/*/comments/*");
    }

    @Test
    void aLiteralSegmentIsMoreSpecificThanAVariableAtTheFirstPlaceTheyDiffer() {
        assertThat(PathTemplate.parse("/x/latest").compareSpecificity(PathTemplate.parse("/x/{name}"))).isNegative();
        assertThat(PathTemplate.parse("/x/{name}").compareSpecificity(PathTemplate.parse("/x/latest"))).isPositive();
        assertThat(PathTemplate.parse("/x/{a}/b").compareSpecificity(PathTemplate.parse("/{x}/a/{b}"))).isNegative();
        assertThat(PathTemplate.parse("/x/{a}").compareSpecificity(PathTemplate.parse("/y/{b}"))).isZero();
        assertThat(PathTemplate.parse("/x/{a}/{b}").variables()).containsExactly("a", "b");
        assertThat(PathTemplate.parse("/x/*").compareSpecificity(PathTemplate.parse("/x/**"))).isNegative();
        assertThat(PathTemplate.parse("/x/y/**").compareSpecificity(PathTemplate.parse("/x/**"))).isNegative();
        assertThat(PathTemplate.parse("/x/y").compareSpecificity(PathTemplate.parse("/x/y/**"))).isNegative();
        // a total order, whatever the templates' lengths: a sort puts the literal before the variable in any order
        List<String> templates = List.of("/post/{id}", "/post", "/post/watch", "/post/{id}/comments", "/{any=**}");
        for (List<String> order : List.of(templates, templates.reversed(),
                                          List.of("/post", "/post/{id}", "/{any=**}", "/post/watch", "/post/{id}/comments"))) {
            List<String> sorted = order.stream().sorted((a, b) -> PathTemplate.parse(a).compareSpecificity(PathTemplate.parse(b)))
                    .toList();
            assertThat(sorted.indexOf("/post/watch")).as("%s", sorted).isLessThan(sorted.indexOf("/post/{id}"));
            assertThat(sorted.getLast()).as("%s", sorted).isEqualTo("/{any=**}");
        }
    }

    @Test
    void printsAsItsTemplateText() {
        assertThat(PathTemplate.parse("/post/{id}")).hasToString("/post/{id}");
    }

    @Test
    void splitDropsOneLeadingAndOneTrailingSlashAndKeepsEmptySegmentsBetween() {
        assertThat(PathTemplate.split("")).isEmpty();
        assertThat(PathTemplate.split("/")).isEmpty();
        assertThat(PathTemplate.split("/post")).containsExactly("post");
        assertThat(PathTemplate.split("post")).containsExactly("post");
        assertThat(PathTemplate.split("/post/")).containsExactly("post");
        assertThat(PathTemplate.split("/post//")).containsExactly("post", "");
        assertThat(PathTemplate.split("//post")).containsExactly("", "post");
        assertThat(PathTemplate.split("/a//b")).containsExactly("a", "", "b");
    }

    @Test
    void dotSegmentsAreOrdinarySegmentsNotResolved() {
        assertThat(PathTemplate.split("/user/../post")).containsExactly("user", "..", "post");
        assertThat(PathTemplate.split("/post/./x")).containsExactly("post", ".", "x");
        assertThat(PathTemplate.parse("/post").match(PathTemplate.split("/user/../post"), new HashMap<>())).isFalse();
    }

    @Test
    void aVeryLongPathIsSplitAndRefusedQuickly() {
        String path = "/post".repeat(200_000);
        long start = System.nanoTime();

        String[] segments = PathTemplate.split(path);
        boolean matched = PathTemplate.parse("/post/{id}").match(segments, new HashMap<>());

        assertThat(segments).hasSize(200_000);
        assertThat(matched).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }
}
