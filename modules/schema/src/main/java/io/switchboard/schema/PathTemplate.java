package io.switchboard.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A google.api.http path template of literal segments and single-segment variables, such as
 * {@code /post/{id}}. Matching is exact per segment; a variable matches one non-empty segment. Immutable.
 * (Multi-segment variables such as {@code {name=shelves/*}} and nested field paths are refused when parsed.)
 */
public final class PathTemplate {
    private static final Pattern FIELD = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String text;
    private final String[] segments;
    private final boolean[] variable;

    private PathTemplate(String text, String[] segments, boolean[] variable) {
        this.text = text;
        this.segments = segments;
        this.variable = variable;
    }

    /**
     * Parses a template.
     *
     * @param template such as {@code /post/{id}}
     * @return the template
     * @throws IllegalArgumentException for anything but literal segments and {@code {field}} variables (a field
     *                                  name: letters, digits, underscores), such as {@code {name=shelves/*}}
     */
    public static PathTemplate parse(String template) {
        String[] parts = split(template);
        String[] names = new String[parts.length];
        boolean[] variable = new boolean[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (part.startsWith("{") && part.endsWith("}") && FIELD.matcher(part.substring(1, part.length() - 1)).matches()) {
                names[i] = part.substring(1, part.length() - 1);
                variable[i] = true;
            } else if (part.contains("{") || part.contains("}") || part.contains("*")) {
                throw new IllegalArgumentException("unsupported path template " + template
                                                   + ": only literal segments and {field} variables");
            } else {
                names[i] = part;
            }
        }
        return new PathTemplate(template, names, variable);
    }

    /**
     * The template's variables, in order.
     *
     * @return variable names
     */
    public List<String> variables() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < segments.length; i++) {
            if (variable[i]) {
                names.add(segments[i]);
            }
        }
        return names;
    }

    /**
     * The template with its variables unnamed: {@code /post/{}} for {@code /post/{id}}. Two templates of one shape
     * match the same paths.
     *
     * @return the shape
     */
    public String shape() {
        StringBuilder shape = new StringBuilder();
        for (int i = 0; i < segments.length; i++) {
            shape.append('/').append(variable[i] ? "{}" : segments[i]);
        }
        return shape.isEmpty() ? "/" : shape.toString();
    }

    /**
     * Orders templates most specific first: of two templates a path can both match (same length), the one with a
     * literal where the other has a variable, at the first segment where they differ. So {@code /x/latest} is
     * tried before {@code /x/{name}}, whatever the order they were declared in.
     *
     * @param other another template
     * @return negative when this one is more specific
     */
    public int compareSpecificity(PathTemplate other) {
        for (int i = 0; i < Math.min(segments.length, other.segments.length); i++) {
            if (variable[i] != other.variable[i]) {
                return variable[i] ? 1 : -1;
            }
        }
        return 0;
    }

    /**
     * Matches a request path (already split into segments).
     *
     * @param path      path segments
     * @param variables receives the variables' values when it matches
     * @return whether it matches
     */
    public boolean match(String[] path, Map<String, String> variables) {
        if (path.length != segments.length) {
            return false;
        }
        for (int i = 0; i < segments.length; i++) {
            if (variable[i]) {
                if (path[i].isEmpty()) {
                    return false;
                }
            } else if (!segments[i].equals(path[i])) {
                return false;
            }
        }
        for (int i = 0; i < segments.length; i++) {
            if (variable[i]) {
                variables.put(segments[i], path[i]);
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return text;
    }

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
}
