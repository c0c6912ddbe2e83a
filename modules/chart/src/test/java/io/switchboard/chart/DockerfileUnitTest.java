package io.switchboard.chart;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The Dockerfile refers only to files, build arguments and stages that exist, and matches the components. */
class DockerfileUnitTest {
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)");
    private final List<Instruction> instructions = parse(Repository.read(Repository.ROOT.resolve("Dockerfile")));

    @Test
    void baseImagesAreBuildArgumentsAndOtherStagesAreDefinedFirst() {
        Set<String> globalArgs = new HashSet<>();
        Set<String> stages = new HashSet<>();
        boolean inStage = false;
        for (Instruction instruction : instructions) {
            if (instruction.is("ARG") && !inStage) {
                globalArgs.add(instruction.args().split("=")[0]);
            } else if (instruction.is("FROM")) {
                inStage = true;
                String[] words = instruction.args().split("\\s+");
                Matcher variable = VARIABLE.matcher(words[0]);
                if (variable.find()) {
                    assertThat(globalArgs).as(instruction.line()).contains(variable.group(1));
                } else {
                    assertThat(stages).as("a FROM that is neither a build argument nor a stage: " + instruction.line())
                            .contains(words[0]);
                }
                if (words.length == 3) {
                    stages.add(words[2]);
                }
            }
        }
        assertThat(globalArgs).contains("BUILD_IMAGE", "RUNTIME_BASE", "COMPONENT");
    }

    @Test
    void everyVariableIsADeclaredArgumentOrEnvironmentVariable() {
        Set<String> global = new HashSet<>();
        Set<String> scope = new HashSet<>();
        boolean inStage = false;
        for (Instruction instruction : instructions) {
            switch (instruction.keyword()) {
                case "FROM" -> {
                    inStage = true;
                    scope = new HashSet<>(Set.of("PATH"));
                }
                case "ARG" -> (inStage ? scope : global).add(instruction.args().split("=")[0]);
                case "ENV" -> {
                    Matcher names = Pattern.compile("(?:^|\\s)([A-Za-z_][A-Za-z0-9_]*)=").matcher(instruction.args());
                    while (names.find()) {
                        scope.add(names.group(1));
                    }
                }
                default -> { }
            }
            if (!instruction.is("FROM") && !instruction.is("ARG")) {
                // a RUN's own shell loop variables (for component in ...) are its to use
                Set<String> known = new HashSet<>(scope);
                Matcher loops = Pattern.compile("\\bfor\\s+([A-Za-z_][A-Za-z0-9_]*)\\s+in\\b").matcher(instruction.args());
                while (instruction.is("RUN") && loops.find()) {
                    known.add(loops.group(1));
                }
                Matcher used = VARIABLE.matcher(instruction.args());
                while (used.find()) {
                    assertThat(known).as(instruction.line()).contains(used.group(1));
                }
            }
        }
    }

    @Test
    void copiedSourcesExistAndAreNotIgnored() {
        List<String> ignored = Repository.read(Repository.ROOT.resolve(".dockerignore")).lines()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        List<String> sources = new ArrayList<>();
        instructions.stream().filter(i -> i.is("COPY") && !i.args().contains("--from")).forEach(copy -> {
            String[] words = copy.args().split("\\s+");
            sources.addAll(List.of(words).subList(0, words.length - 1));
        });

        assertThat(sources).contains("pom.xml", "mvnw", ".mvn/", "proto/", "modules/");
        for (String source : sources) {
            assertThat(Files.exists(Repository.ROOT.resolve(source))).as(source).isTrue();
            assertThat(ignored).as(source).doesNotContain(source, "/" + source);
        }
        assertThat(ignored).contains("**/target/");
    }

    @Test
    void aStagePerComponentExposesItsPortAndKeepsDataOnlyWhereItHasSome() {
        Map<String, List<Instruction>> stages = stages();

        assertThat(stages.keySet()).containsAll(Repository.COMPONENTS);
        for (String component : Repository.COMPONENTS) {
            List<Instruction> stage = stages.get(component);
            assertThat(stage).as(component).anyMatch(i -> i.is("EXPOSE") && i.args().equals(
                    Repository.port(component) + " " + Repository.managementPort(component)));
            boolean hasData = Repository.applicationYaml(component).containsKey("data");
            assertThat(stage.stream().anyMatch(i -> i.is("VOLUME") && i.args().equals("/data"))).as(component).isEqualTo(hasData);
            assertThat(stage.stream().anyMatch(i -> i.is("ENV") && i.args().equals("DATA_DIR=/data"))).as(component).isEqualTo(hasData);
            // the build copies modules/<component>/target/<component>.jar: the runnable profile's finalName
            assertThat(Repository.read(Repository.ROOT.resolve("modules/" + component + "/pom.xml")))
                    .contains("<component.name>" + component + "</component.name>");
        }
        assertThat(instructions.getLast().line()).isEqualTo("FROM ${COMPONENT}");
    }

    @Test
    void runtimeIsNonRootAndSizedForContainers() throws Exception {
        List<Instruction> runtime = stages().get("runtime");
        Map<?, ?> values = Repository.YAML.readValue(Repository.CHART.resolve("values.yaml").toFile(), Map.class);
        Object chartUser = ((Map<?, ?>) values.get("securityContext")).get("runAsUser");

        Instruction user = runtime.stream().filter(i -> i.is("USER")).findFirst().orElseThrow();
        assertThat(user.args()).matches("[1-9][0-9]*:[1-9][0-9]*").startsWith(chartUser + ":");
        assertThat(runtime).anyMatch(i -> i.is("ENV") && i.args().contains("-XX:MaxRAMPercentage="));
        assertThat(runtime).anyMatch(i -> i.is("ENTRYPOINT") && i.args().contains("\"-jar\""));
    }

    private Map<String, List<Instruction>> stages() {
        Map<String, List<Instruction>> stages = new LinkedHashMap<>();
        List<Instruction> current = null;
        for (Instruction instruction : instructions) {
            if (instruction.is("FROM")) {
                String[] words = instruction.args().split("\\s+");
                current = new ArrayList<>();
                stages.put(words.length == 3 ? words[2] : "final", current);
            } else if (current != null) {
                current.add(instruction);
            }
        }
        return stages;
    }

    private static List<Instruction> parse(String dockerfile) {
        List<Instruction> parsed = new ArrayList<>();
        StringBuilder logical = new StringBuilder();
        for (String line : dockerfile.lines().toList()) {
            if (line.isBlank() || line.stripLeading().startsWith("#")) {
                continue;
            }
            if (line.endsWith("\\")) {
                logical.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            logical.append(line);
            String text = logical.toString().strip();
            logical.setLength(0);
            int space = text.indexOf(' ');
            parsed.add(new Instruction(text.substring(0, space).toUpperCase(), text.substring(space + 1).strip(), text));
        }
        return parsed;
    }

    private record Instruction(String keyword, String args, String line) {
        boolean is(String name) {
            return keyword.equals(name);
        }
    }
}
