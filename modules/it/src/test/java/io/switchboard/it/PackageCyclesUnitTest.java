package io.switchboard.it;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The arrows between Switchboard's packages go one way (docs/architecture.md): the package graph of the compiled main
 * classes of every module, as the JDK's {@code jdeps} reads it from the bytecode, has no cycle. Javadoc links are not
 * in the bytecode and do not count.
 */
class PackageCyclesUnitTest {
    private static final Pattern EDGE = Pattern.compile("^\\s+(io\\.switchboard[\\w.]*)\\s+->\\s+(io\\.switchboard[\\w.]*)\\s");

    @Test
    void noPackageDependsOnItselfThroughOthers() throws IOException {
        List<Path> classes = new ArrayList<>();
        try (Stream<Path> modules = Files.list(Path.of(".."))) {
            modules.map(module -> module.resolve("target/classes/io/switchboard")).filter(Files::isDirectory)
                    .forEach(dir -> classes.add(dir.getParent().getParent()));
        }
        // the components, the libraries and the tools: a missing build would make the check pass on nothing
        assertThat(classes).hasSizeGreaterThanOrEqualTo(12);

        Map<String, Set<String>> graph = packageGraph(classes);
        assertThat(graph).containsKeys("io.switchboard.gateway", "io.switchboard.hub", "io.switchboard.registry.impl");
        assertThat(cycles(graph)).isEmpty();
    }

    @Test
    void aCycleIsFound() {
        Map<String, Set<String>> graph = new TreeMap<>();
        graph.put("a", Set.of("b"));
        graph.put("b", Set.of("c", "d"));
        graph.put("c", Set.of("a"));
        graph.put("d", Set.of());
        assertThat(cycles(graph)).containsExactly(List.of("a", "b", "c"));
        graph.put("c", Set.of());
        assertThat(cycles(graph)).isEmpty();
    }

    private static Map<String, Set<String>> packageGraph(List<Path> classes) {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps")
                .orElseThrow(() -> new IllegalStateException("jdeps is missing: run the tests on a JDK, not a JRE"));
        Map<String, Set<String>> graph = new TreeMap<>();
        for (Path dir : classes) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int status = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:package", "-filter:none",
                                   "--multi-release", "base", dir.toString());
            assertThat(status).as("jdeps on %s: %s", dir, err).isZero();
            for (String line : out.toString().split("\n")) {
                Matcher edge = EDGE.matcher(line);
                if (edge.find() && !edge.group(1).equals(edge.group(2))) {
                    graph.computeIfAbsent(edge.group(1), p -> new TreeSet<>()).add(edge.group(2));
                    graph.computeIfAbsent(edge.group(2), p -> new TreeSet<>());
                }
            }
        }
        return graph;
    }

    /* Each strongly connected set of more than one package (Tarjan), its packages sorted. */
    private static List<List<String>> cycles(Map<String, Set<String>> graph) {
        return new Object() {
            final Map<String, Integer> index = new TreeMap<>();
            final Map<String, Integer> low = new TreeMap<>();
            final List<String> stack = new ArrayList<>();
            final Set<String> onStack = new HashSet<>();
            final List<List<String>> found = new ArrayList<>();

            List<List<String>> run() {
                graph.keySet().forEach(node -> {
                    if (!index.containsKey(node)) {
                        visit(node);
                    }
                });
                return found;
            }

            void visit(String node) {
                index.put(node, index.size());
                low.put(node, index.get(node));
                stack.add(node);
                onStack.add(node);
                for (String next : graph.getOrDefault(node, Set.of())) {
                    if (!index.containsKey(next)) {
                        visit(next);
                        low.put(node, Math.min(low.get(node), low.get(next)));
                    } else if (onStack.contains(next)) {
                        low.put(node, Math.min(low.get(node), index.get(next)));
                    }
                }
                if (low.get(node).equals(index.get(node))) {
                    List<String> component = new ArrayList<>();
                    String top;
                    do {
                        top = stack.remove(stack.size() - 1);
                        onStack.remove(top);
                        component.add(top);
                    } while (!top.equals(node));
                    if (component.size() > 1) {
                        found.add(component.stream().sorted().toList());
                    }
                }
            }
        }.run();
    }
}
