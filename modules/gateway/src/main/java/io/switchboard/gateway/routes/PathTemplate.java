package io.switchboard.gateway.routes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A google.api.http path template of literal segments and single-segment variables, such as
 * {@code /post/{id}}. Matching is exact per segment; a variable matches one non-empty segment. Immutable.
 */
final class PathTemplate {
    private final String text;
    private final String[] segments;
    private final boolean[] variable;

    private PathTemplate(String text, String[] segments, boolean[] variable) {
        this.text = text;
        this.segments = segments;
        this.variable = variable;
    }

    static PathTemplate parse(String template) {
        String[] parts = split(template);
        String[] names = new String[parts.length];
        boolean[] variable = new boolean[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (part.startsWith("{") && part.endsWith("}")) {
                String name = part.substring(1, part.length() - 1);
                if (name.contains("=") || name.contains("*")) {
                    throw new IllegalArgumentException("unsupported path template " + template + ": only {field}");
                }
                names[i] = name;
                variable[i] = true;
            } else {
                names[i] = part;
            }
        }
        return new PathTemplate(template, names, variable);
    }

    /**
     * Matches a request path (already split into segments).
     *
     * @param path      path segments
     * @param variables receives the variables' values when it matches
     * @return whether it matches
     */
    boolean match(String[] path, Map<String, String> variables) {
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

    static String[] split(String path) {
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
