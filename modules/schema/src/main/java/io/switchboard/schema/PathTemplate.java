package io.switchboard.schema;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A google.api.http path template, as grpc-gateway and Envoy's transcoder read them: literal segments, {@code *}
 * (one segment), {@code **} (the rest of the path, last only), variables that bind a request field (a field path
 * such as {@code post.id}) to one segment ({@code {id}}) or to a pattern of segments ({@code {name=shelves/*}}), and
 * a custom verb ({@code :cancel}). Matching is exact per literal segment; {@code *} and a one-segment variable match
 * one non-empty segment. Immutable.
 *
 * <pre>
 * Template = "/" [ Segments ] [ ":" Verb ] ;   Segment = "*" | "**" | LITERAL | "{" FieldPath [ "=" Segments ] "}"
 * </pre>
 */
public final class PathTemplate {
    private static final Pattern FIELD_PATH = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
    /* RFC 3986 unreserved and sub-delims, '@' and percent-encodings: what a path segment may hold, less ':' */
    private static final Pattern LITERAL = Pattern.compile("[A-Za-z0-9._~!$&'()+,;=@%-]+");
    private static final int LITERAL_TOKEN = 0;
    private static final int ONE = 1;
    private static final int REST = 2;

    private final String text;
    /* per token: its kind, and its text for a literal */
    private final int[] kinds;
    private final String[] literals;
    private final List<Variable> variables;
    private final String verb;

    private PathTemplate(String text, int[] kinds, String[] literals, List<Variable> variables, String verb) {
        this.text = text;
        this.kinds = kinds;
        this.literals = literals;
        this.variables = variables;
        this.verb = verb;
    }

    /**
     * Parses a template.
     *
     * @param template such as {@code /post/{id}} or {@code /v1/{name=shelves/*}:publish}
     * @return the template
     * @throws IllegalArgumentException for anything outside the grammar, a {@code **} that is not last, a field bound
     *                                  twice, or a variable inside a variable
     */
    public static PathTemplate parse(String template) {
        if (!template.startsWith("/")) {
            throw bad(template, "it must start with /");
        }
        int colon = verbColon(template);
        String path = colon < 0 ? template : template.substring(0, colon);
        String verb = colon < 0 ? null : template.substring(colon + 1);
        if (verb != null && !LITERAL.matcher(verb).matches()) {
            throw bad(template, "the custom verb must be a literal");
        }
        List<Integer> kinds = new ArrayList<>();
        List<String> literals = new ArrayList<>();
        List<Variable> variables = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String segment : topLevel(template, path.substring(1))) {
            if (segment.startsWith("{")) {
                if (!segment.endsWith("}")) {
                    throw bad(template, "a variable must be one whole segment, {field} or {field=pattern}");
                }
                String inner = segment.substring(1, segment.length() - 1);
                int equals = inner.indexOf('=');
                String name = equals < 0 ? inner : inner.substring(0, equals);
                if (!FIELD_PATH.matcher(name).matches()) {
                    throw bad(template, "a variable must name a field (letters, digits, underscores, dots between)");
                }
                if (!names.add(name)) {
                    throw bad(template, "the field " + name + " is bound twice");
                }
                int first = kinds.size();
                String pattern = equals < 0 ? "*" : inner.substring(equals + 1);
                if (pattern.isEmpty()) {
                    throw bad(template, "the pattern of {" + name + "} is empty");
                }
                for (String part : pattern.split("/", -1)) {
                    token(template, part, kinds, literals);
                }
                variables.add(new Variable(name, first, kinds.size() - 1));
            } else {
                token(template, segment, kinds, literals);
            }
        }
        for (int i = 0; i < kinds.size() - 1; i++) {
            if (kinds.get(i) == REST) {
                throw bad(template, "** must be the last segment");
            }
        }
        return new PathTemplate(template, kinds.stream().mapToInt(Integer::intValue).toArray(),
                                literals.toArray(String[]::new), List.copyOf(variables), verb);
    }

    /**
     * The fields the template's variables bind, in order.
     *
     * @return field paths, such as {@code id} or {@code post.id}
     */
    public List<String> variables() {
        return variables.stream().map(Variable::field).toList();
    }

    /**
     * Whether a variable takes exactly one segment ({@code {id}}, {@code {id=*}}); others take a pattern and bind
     * the matched segments with their slashes, which only a string field can hold.
     *
     * @param field a field path of {@link #variables()}
     * @return true for one segment
     */
    public boolean singleSegment(String field) {
        return variables.stream().anyMatch(v -> v.field.equals(field) && v.first == v.last && kinds[v.first] == ONE);
    }

    /**
     * The template with its variables unnamed: {@code /post/*} for {@code /post/{id}}, {@code /v1/shelves/*:publish}
     * for {@code /v1/{name=shelves/*}:publish}. Two templates of one shape match the same paths.
     *
     * @return the shape
     */
    public String shape() {
        StringBuilder shape = new StringBuilder();
        for (int i = 0; i < kinds.length; i++) {
            shape.append('/').append(kinds[i] == LITERAL_TOKEN ? literals[i] : kinds[i] == ONE ? "*" : "**");
        }
        return (shape.isEmpty() ? "/" : shape.toString()) + (verb == null ? "" : ":" + verb);
    }

    /**
     * Orders templates most specific first: of two templates a path can both match, the one with a literal where
     * the other has {@code *} (or {@code *} where the other has {@code **}), at the first segment where they differ;
     * then the one with a custom verb. So {@code /x/latest} is tried before {@code /x/{name}}, and
     * {@code /x/{name}:cancel} before {@code /x/{name}}, whatever the order they were declared in.
     *
     * @param other another template
     * @return negative when this one is more specific
     */
    public int compareSpecificity(PathTemplate other) {
        for (int i = 0; i < Math.min(kinds.length, other.kinds.length); i++) {
            if (kinds[i] != other.kinds[i]) {
                return Integer.compare(kinds[i], other.kinds[i]);
            }
        }
        if (kinds.length != other.kinds.length) {
            // one is the start of the other: only a ** at the end of the longer lets both match one path, and then the
            // shorter is the more specific; otherwise no path matches both, and shorter first keeps the order total
            // (a sort needs that: /post, /post/{id} and /post/watch once sorted /post/watch after /post/{id})
            return Integer.compare(kinds.length, other.kinds.length);
        }
        return Boolean.compare(verb == null, other.verb == null);
    }

    /**
     * Matches a request path (already split into segments).
     *
     * @param path      path segments, raw (percent-encoded)
     * @param variables receives the variables' values when it matches: the raw segments they bound, joined by
     *                  slashes
     * @return whether it matches
     */
    public boolean match(String[] path, Map<String, String> variables) {
        int count = path.length;
        String last = count == 0 ? null : path[count - 1];
        if (verb != null) {
            if (last == null || !last.endsWith(":" + verb)) {
                return false;
            }
            last = last.substring(0, last.length() - verb.length() - 1);
        }
        boolean rest = kinds.length > 0 && kinds[kinds.length - 1] == REST;
        if (rest ? count < kinds.length - 1 : count != kinds.length) {
            return false;
        }
        for (int i = 0; i < kinds.length; i++) {
            if (kinds[i] == REST) {
                break;
            }
            String segment = i == count - 1 ? last : path[i];
            if (kinds[i] == ONE ? segment.isEmpty() : !literals[i].equals(segment)) {
                return false;
            }
        }
        for (Variable variable : this.variables) {
            int end = kinds[variable.last] == REST ? count - 1 : variable.last;
            StringBuilder value = new StringBuilder();
            for (int i = variable.first; i <= end; i++) {
                if (i > variable.first) {
                    value.append('/');
                }
                value.append(i == count - 1 ? last : path[i]);
            }
            variables.put(variable.field, value.toString());
        }
        return true;
    }

    @Override
    public String toString() {
        return text;
    }

    /**
     * A request path's segments: one leading and one trailing slash dropped, empty segments between kept, nothing
     * decoded or resolved ({@code ..} is a segment like any other).
     *
     * @param path the raw path
     * @return its segments
     */
    public static String[] split(String path) {
        List<String> parts = new ArrayList<>();
        int start = path.startsWith("/") ? 1 : 0;
        int end = path.endsWith("/") && path.length() > 1 ? path.length() - 1 : path.length();
        if (start >= end) {
            return new String[0];
        }
        for (String part : path.substring(start, end).split("/", -1)) {
            parts.add(part);
        }
        return parts.toArray(String[]::new);
    }

    private static void token(String template, String part, List<Integer> kinds, List<String> literals) {
        switch (part) {
        case "*" -> kinds.add(ONE);
        case "**" -> kinds.add(REST);
        default -> {
            if (!LITERAL.matcher(part).matches()) {
                throw bad(template, "\"" + part + "\" is not a literal segment, *, ** or a {variable}");
            }
            kinds.add(LITERAL_TOKEN);
        }
        }
        literals.add(kinds.get(kinds.size() - 1) == LITERAL_TOKEN ? part : null);
    }

    /* The segments of a template's path, split at the slashes outside braces; an empty path has none. */
    private static List<String> topLevel(String template, String path) {
        List<String> segments = new ArrayList<>();
        if (path.isEmpty()) {
            return segments;
        }
        int depth = 0;
        int start = 0;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '{' && ++depth > 1) {
                throw bad(template, "a variable cannot hold another");
            } else if (c == '}' && --depth < 0) {
                throw bad(template, "a } closes no variable");
            } else if (c == '/' && depth == 0) {
                segments.add(path.substring(start, i));
                start = i + 1;
            }
        }
        if (depth != 0) {
            throw bad(template, "a { is not closed");
        }
        segments.add(path.substring(start));
        return segments;
    }

    /* Where the custom verb starts: the last ':' outside braces after the last '/' outside them, -1 for none. */
    private static int verbColon(String template) {
        int depth = 0;
        int colon = -1;
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}') {
                depth--;
            } else if (depth == 0 && c == '/') {
                colon = -1;
            } else if (depth == 0 && c == ':' && colon < 0) {
                colon = i;
            }
        }
        return colon;
    }

    private static IllegalArgumentException bad(String template, String reason) {
        return new IllegalArgumentException("unsupported path template " + template + ": " + reason);
    }

    private record Variable(String field, int first, int last) {
    }
}
