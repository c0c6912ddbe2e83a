package io.switchboard.chart;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/**
 * The repository these checks read: the chart, the Dockerfile, and what the components really serve and read
 * (each module's {@code application.yaml}, plus the keys that have no default there).
 */
final class Repository {
    static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
    static final Path CHART = ROOT.resolve("helm/switchboard");
    static final List<String> COMPONENTS = List.of("hub", "gateway", "user", "post", "comment");
    static final ObjectMapper YAML = new YAMLMapper();

    /*
     * Keys the code reads with no entry in application.yaml (README's tables list them). Each is checked to
     * occur as a string literal in the sources that read it, so that this list cannot drift silently.
     */
    private static final List<String> SERVICE_KEYS = List.of("registry.instance-id", "registry.zone", "registry.version",
                                                             "registry.weight", "db.url", "db.user", "db.password",
                                                             "db.pool-size");
    /* a component's identity files, which every component reads (README "Identity and TLS") */
    private static final List<String> TLS_KEYS = List.of("tls.certificate", "tls.private-key", "tls.trust-bundle",
                                                         "tls.local-ca");
    static final Map<String, List<String>> KEYS_WITHOUT_DEFAULTS = Map.of(
            "hub", TLS_KEYS,
            "gateway", TLS_KEYS,
            "post", concat(SERVICE_KEYS, TLS_KEYS),
            "comment", concat(SERVICE_KEYS, TLS_KEYS),
            "user", concat(SERVICE_KEYS, TLS_KEYS, List.of("user.signing-key", "user.signing-key-file",
                                                           "user.extra-public-keys", "user.argon2.memory-kib",
                                                           "user.argon2.iterations")));

    private Repository() {
    }

    /** Every configuration key a component reads: its application.yaml's leaves and the keys without defaults. */
    static Set<String> configKeys(String component) {
        Set<String> keys = new TreeSet<>();
        flatten("", applicationYaml(component), keys);
        keys.addAll(KEYS_WITHOUT_DEFAULTS.get(component));
        return keys;
    }

    /** The port a component serves on by default (its application.yaml's server.port). */
    static int port(String component) {
        return ((Number) ((Map<?, ?>) applicationYaml(component).get("server")).get("port")).intValue();
    }

    /** The port a component serves its observe endpoints on by default (its application.yaml's server.management-port). */
    static int managementPort(String component) {
        return ((Number) ((Map<?, ?>) applicationYaml(component).get("server")).get("management-port")).intValue();
    }

    /** How Helidon finds a key in the environment: upper case, "." and "-" become "_". */
    static String envName(String key) {
        return key.toUpperCase().replace('.', '_').replace('-', '_');
    }

    static Map<?, ?> applicationYaml(String component) {
        try {
            return YAML.readValue(ROOT.resolve("modules/" + component + "/src/main/resources/application.yaml").toFile(),
                                  Map.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void flatten(String prefix, Map<?, ?> node, Set<String> keys) {
        node.forEach((name, value) -> {
            String key = prefix + name;
            if (value instanceof Map<?, ?> child) {
                flatten(key + ".", child, keys);
            } else {
                keys.add(key);
            }
        });
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        return java.util.Arrays.stream(lists).flatMap(List::stream).toList();
    }
}
