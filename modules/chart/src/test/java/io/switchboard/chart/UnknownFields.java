package io.switchboard.chart;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Finds fields the Kubernetes API does not know in a fabric8 model object. fabric8 keeps an unknown field (a
 * {@code readinesProbe:} typo) in the object's {@code additionalProperties} instead of failing, and
 * {@code helm lint} does not notice either; this walks the whole object tree and reports each one.
 */
final class UnknownFields {
    private UnknownFields() {
    }

    /**
     * The paths of unknown fields, e.g. {@code spec.template.spec.containers[0].readinesProbe}.
     *
     * @param model a fabric8 model object
     * @return the paths, empty when every field is known
     */
    static List<String> of(Object model) {
        List<String> found = new ArrayList<>();
        walk(model, "", found);
        return found;
    }

    private static void walk(Object node, String path, List<String> found) {
        switch (node) {
            case null -> { }
            case List<?> list -> {
                for (int i = 0; i < list.size(); i++) {
                    walk(list.get(i), path + "[" + i + "]", found);
                }
            }
            case Map<?, ?> map -> map.forEach((key, value) -> walk(value, path + "[" + key + "]", found));
            default -> {
                if (node.getClass().getPackageName().startsWith("io.fabric8.")) {
                    walkModel(node, path, found);
                }
            }
        }
    }

    private static void walkModel(Object node, String path, List<String> found) {
        for (Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                || !getter.getName().startsWith("get") || getter.getDeclaringClass() == Object.class
                || getter.getReturnType().isPrimitive()) {
                continue;
            }
            Object value = invoke(getter, node);
            String name = Character.toLowerCase(getter.getName().charAt(3)) + getter.getName().substring(4);
            if (name.equals("additionalProperties")) {
                ((Map<?, ?>) value).keySet().forEach(unknown -> found.add(join(path, String.valueOf(unknown))));
            } else {
                walk(value, join(path, name), found);
            }
        }
    }

    private static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    private static Object invoke(Method getter, Object node) {
        try {
            return getter.invoke(node);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("cannot read " + getter, e);
        }
    }
}
