package io.switchboard.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntPredicate;

import io.switchboard.identity.IdentityFiles;
import io.switchboard.identity.LocalCa;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.user.tokens.SigningKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.yaml.snakeyaml.Yaml;

import static io.switchboard.it.Api.send;
import static java.util.concurrent.TimeUnit.MINUTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * The images as the chart runs them: etcd (with TLS, as the chart's) and every component from its image
 * ({@code scripts/images.sh} builds them first; {@code scripts/test.sh} runs this test after it), each under the
 * chart's security context, JVM options and memory limit, with its identity mounted as cert-manager's Secret would be.
 * The API flow runs through the gateway; every container stops on SIGTERM with exit code 0 within its grace period;
 * the user's and the post's data survive new containers on the same volumes.
 * <p>
 * Tagged {@code images}: the Maven build leaves it out, since it needs the images and podman (as root).
 */
@Tag("images")
@Timeout(value = 10, unit = MINUTES)
class ImagesTest {
    private static final String TAG = System.getProperty("images.tag", "dev");
    private static final List<String> COMPONENTS = List.of("hub", "user", "post", "comment", "gateway");
    /** The chart's values: each component's JVM options, memory limit and grace period. */
    private static final Map<String, Object> VALUES = chartValues();
    private static final long MAX_IMAGE_BYTES = 120_000_000;
    private static final int UID = 10001;

    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final List<Container> containers = new ArrayList<>();
    /* the directories this test made (identities, data, the signing key), owned by uid 10001: removed at the end */
    private final List<Path> directories = new ArrayList<>();
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final Map<String, Path> data = new LinkedHashMap<>();

    @AfterEach
    void removeContainersAndDirectories() throws IOException {
        containers.forEach(Container::close);
        for (Path directory : directories) {
            try (var files = Files.walk(directory)) {
                for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    private Path directory(String prefix) throws IOException {
        Path directory = Files.createTempDirectory(prefix);
        directories.add(directory);
        return directory;
    }

    @Test
    void theSystemRunsFromItsImagesUnderTheChartsSecuritySettings() throws Exception {
        for (String component : COMPONENTS) {
            String image = image(component);
            if (!Container.imageExists(image)) {
                fail(image + " does not exist: build the images first with scripts/images.sh (scripts/test.sh does)");
            }
            assertThat(Container.imageSize(image)).as("size of %s", image).isLessThanOrEqualTo(MAX_IMAGE_BYTES);
        }
        // the test run's CA, which the test clients trust
        LocalCa ca = LocalCa.openOrCreate(Components.CA, LocalCa.DEFAULT_TRUST_DOMAIN);
        Path signingKey = directory("images-signing-key-").resolve("key");
        Files.writeString(signingKey, SigningKeys.generate().toJSONString());
        readableByComponents(signingKey, "r--------");
        readableByComponents(signingKey.getParent(), "r-x------");

        try (EtcdServer etcd = EtcdServer.startWithTls(ca.ensure("etcd"))) {
            for (String component : COMPONENTS) {
                ports.put(component, FreePorts.next());
            }
            for (String component : List.of("user", "post", "comment")) {
                Path dir = directory("images-" + component + "-data-");
                readableByComponents(dir, "rwx------");
                data.put(component, dir);
            }
            Map<String, Container> started = new LinkedHashMap<>();
            // all at once, as a helm install starts them: the system converges in any order
            for (String component : COMPONENTS) {
                started.put(component, start(component, ca, etcd, signingKey));
            }
            for (String component : COMPONENTS) {
                awaitReady(component, started.get(component));
            }

            String token = Api.registerAndLogin(ports.get("gateway"), "+4422000001");
            assertThat(send(ports.get("gateway"), "GET", "/user/me", null, token).body()).contains("+4422000001");
            String post = Api.find(Api.ID, send(ports.get("gateway"), "POST", "/post",
                                                "{\"title\":\"from an image\",\"content\":\"c\"}", token));
            assertThat(send(ports.get("gateway"), "POST", "/post/" + post + "/comments", "{\"text\":\"first\"}", token)
                               .statusCode()).isEqualTo(201);
            assertThat(send(ports.get("gateway"), "GET", "/post/" + post + "/comments", null, null).body())
                    .contains("first");

            // SIGTERM, as Kubernetes stops a pod: each exits 0, within its grace period
            for (String component : List.of("gateway", "comment", "post", "user", "hub")) {
                Duration grace = Duration.ofSeconds(((Number) values(component).get("terminationGracePeriodSeconds"))
                                                            .longValue());
                Container.Stopped stopped = started.get(component).stop(grace);
                assertThat(stopped.exitCode()).as("%s's exit code; its log:%n%s", component,
                                                  started.get(component).logs()).isZero();
                assertThat(stopped.took()).as("%s's stop", component).isLessThan(grace);
            }

            // new containers on the same volumes: the account and the post are still there
            for (String component : List.of("hub", "user", "post", "gateway")) {
                Container again = start(component, ca, etcd, signingKey);
                awaitReady(component, again);
            }
            String again = Api.find(Api.TOKEN, send(ports.get("gateway"), "POST", "/user/login",
                                                     Api.credentials("+4422000001"), null));
            assertThat(send(ports.get("gateway"), "GET", "/user/me", null, again).body()).contains("+4422000001");
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> send(ports.get("gateway"), "GET", "/post/" + post, null, null).body()
                            .contains("from an image"));
        }
    }

    private Container start(String component, LocalCa ca, EtcdServer etcd, Path signingKey) throws IOException {
        IdentityFiles identity = ca.ensure(component);
        Path tls = directory("images-" + component + "-tls-");
        Files.copy(identity.certificate(), tls.resolve("tls.crt"));
        Files.copy(identity.privateKey(), tls.resolve("tls.key"));
        Files.copy(identity.trustBundle(), tls.resolve("ca.crt"));
        for (String file : List.of("tls.crt", "tls.key", "ca.crt")) {
            readableByComponents(tls.resolve(file), "r--------");
        }
        readableByComponents(tls, "r-x------");

        Map<String, Object> values = values(component);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("JDK_JAVA_OPTIONS", (String) values.get("jvmOptions"));
        env.put("TLS_CERTIFICATE", "/etc/switchboard/tls/tls.crt");
        env.put("TLS_PRIVATE_KEY", "/etc/switchboard/tls/tls.key");
        env.put("TLS_TRUST_BUNDLE", "/etc/switchboard/tls/ca.crt");
        env.put("SERVER_PORT", String.valueOf(ports.get(component)));
        env.put("SERVER_MANAGEMENT_PORT", Components.managementPort(ports.get(component)));
        Map<Path, String> mounts = new LinkedHashMap<>();
        mounts.put(tls, "/etc/switchboard/tls:ro");
        if (component.equals("hub")) {
            env.put("ETCD_ENDPOINTS", etcd.endpoint());
        } else {
            env.put("HUB_ENDPOINTS", "127.0.0.1:" + ports.get("hub"));
        }
        if (data.containsKey(component)) {
            env.put("REGISTRY_ADVERTISE_HOST", "127.0.0.1");
            env.put("REGISTRY_TTL", String.valueOf(Components.TTL));
            mounts.put(data.get(component), "/data");
        }
        if (component.equals("user")) {
            env.put("USER_SIGNING_KEY_FILE", "/etc/switchboard/signing-key/key");
            mounts.put(signingKey.getParent(), "/etc/switchboard/signing-key:ro");
        }
        String limit = (String) ((Map<?, ?>) ((Map<?, ?>) values.get("resources")).get("limits")).get("memory");
        assertThat(limit).as("%s's memory limit in the chart", component).endsWith("Mi");
        long mebibytes = Long.parseLong(limit.substring(0, limit.length() - 2));
        Container container = Container.run("switchboard-" + component + "-" + run + "-" + containers.size(),
                                            image(component), mebibytes + "m", env, mounts);
        containers.add(container);
        // what podman was asked for is what the container got
        assertThat(container.inspect("{{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{.EffectiveCaps}} "
                                     + "{{.HostConfig.SecurityOpt}} {{.HostConfig.Memory}}"))
                .isEqualTo("true 10001:10001 [] [no-new-privileges] " + mebibytes * 1024 * 1024);
        return container;
    }

    /* Waits until the component answers ready, and says how long that took from podman run's return. */
    private void awaitReady(String component, Container container) {
        long start = container.started();
        int port = ports.get(component);
        IntPredicate ready = p -> Components.status(p, "/observe/health/ready") == 200;
        if (component.equals("gateway")) {
            Components.plainHttp(port);
        }
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (!container.running()) {
                    throw new AssertionError(component + "'s container ended; its log:\n" + container.logs());
                }
                return ready.test(port);
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(component + " is not ready after 60 s; its log:\n" + container.logs(), e);
        }
        System.out.printf("%s (%s) ready %d ms after its container started%n", component, container.name(),
                          Duration.ofNanos(System.nanoTime() - start).toMillis());
    }

    private static String image(String component) {
        return "localhost/switchboard/" + component + ":" + TAG;
    }

    /* Owned by the components' user, with these permissions, as a Secret's defaultMode or a volume's fsGroup does. */
    private static void readableByComponents(Path path, String permissions) throws IOException {
        Files.setAttribute(path, "unix:uid", UID);
        Files.setAttribute(path, "unix:gid", UID);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> values(String component) {
        return (Map<String, Object>) VALUES.get(component);
    }

    private static Map<String, Object> chartValues() {
        try (InputStream in = Files.newInputStream(Path.of("../../helm/switchboard/values.yaml"))) {
            return new Yaml().load(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the chart's values", e);
        }
    }
}
