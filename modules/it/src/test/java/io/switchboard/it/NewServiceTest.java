package io.switchboard.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.it.Api.send;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * "Add a service" as README.md tells it: the archetype this build installed makes a new service in an empty
 * directory, Maven builds it (running the test it comes with, on real etcd, hub and user), and started next to a
 * running stack it is registered, routed by the gateway and listed in the API document, with no change anywhere
 * else.
 */
@Timeout(value = 400, unit = SECONDS)
class NewServiceTest {
    private static final Path ROOT = Path.of("..", "..").toAbsolutePath().normalize();

    @Test
    void aServiceFromTheArchetypeIsBuiltStartedAndServedByTheGatewayWithNoOtherChange() throws Exception {
        Path work = Files.createTempDirectory("new-service-");
        maven(work, "org.apache.maven.plugins:maven-archetype-plugin:3.3.1:generate", "-DinteractiveMode=false",
              "-DarchetypeGroupId=io.switchboard", "-DarchetypeArtifactId=switchboard-service-archetype",
              "-DarchetypeVersion=" + System.getProperty("switchboard.version"),
              "-DgroupId=com.example.shop", "-DartifactId=shop", "-Dversion=1.0.0-SNAPSHOT", "-Dservice=shop");
        Path project = work.resolve("shop");
        assertThat(project.resolve("src/main/proto/shop/v1/shop.proto")).exists();
        assertThat(project.resolve("src/main/java/com/example/shop/ShopService.java")).exists();
        assertThat(project.resolve("Dockerfile")).content().contains("target/shop.jar", "EXPOSE 8010 9010");
        assertThat(project.resolve("README.md")).content().contains("# The shop service", "## Build, test, run", "## Ship it");
        // its block for the chart (ChartOwnServicesUnitTest renders the chart with this template)
        assertThat(project.resolve("helm-values.yaml")).content()
                .contains("  shop:", "port: 8010", "managementPort: 9010", "repository: switchboard/shop", "tag: \"1.0.0-SNAPSHOT\"");
        // compiles its proto, runs its own test on real parts, builds target/shop.jar with its libraries
        String build = maven(project, "package");
        assertThat(build).as("the test the service comes with ran and passed").contains("Tests run: 2, Failures: 0, Errors: 0, Skipped: 0");
        Path jar = project.resolve("target/shop.jar");
        assertThat(jar).exists();

        int hubPort = FreePorts.next();
        int userPort = FreePorts.next();
        int gatewayPort = FreePorts.next();
        int shopPort = FreePorts.next();
        try (EtcdServer etcd = EtcdServer.start()) {
            List<JavaProcess> processes = new ArrayList<>();
            try {
                processes.add(Components.hub(etcd.endpoint(), hubPort));
                processes.add(Components.service("user", hubPort, userPort, Files.createTempDirectory("new-user-")));
                processes.add(Components.gateway(hubPort, gatewayPort, Map.of()));
                await().atMost(Duration.ofSeconds(40))
                        .until(() -> Components.ready(hubPort) && Components.ready(userPort) && Components.ready(gatewayPort));
                assertThat(send(gatewayPort, "GET", "/shop/items", null, null).statusCode()).isEqualTo(404);

                processes.add(JavaProcess.jar(jar, Map.of("HUB_ENDPOINTS", "127.0.0.1:" + hubPort,
                                                          "SERVER_PORT", String.valueOf(shopPort),
                                                          "SERVER_MANAGEMENT_PORT", Components.managementPort(shopPort),
                                                          "REGISTRY_TTL", String.valueOf(Components.TTL),
                                                          "DATA_DIR", Files.createTempDirectory("new-shop-").toString(),
                                                          "TLS_LOCAL_CA", Components.CA.toString())));
                await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200))
                        .until(() -> send(gatewayPort, "GET", "/shop/items", null, null).statusCode() == 200);

                String token = Api.registerAndLogin(gatewayPort, "+4425100000");
                var created = send(gatewayPort, "POST", "/shop/items", "{\"text\":\"a first item\"}", token);
                assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
                String id = Api.find(Api.ID, created);
                var fetched = send(gatewayPort, "GET", "/shop/items/" + id, null, null);
                assertThat(fetched.statusCode()).isEqualTo(200);
                assertThat(fetched.body()).contains("a first item");
                assertThat(send(gatewayPort, "POST", "/shop/items", "{\"text\":\"x\"}", null).statusCode()).isEqualTo(401);
                assertThat(send(gatewayPort, "GET", "/shop/items/..%2Fx", null, null).statusCode()).isEqualTo(400);

                // in the API document with its comments, and so on /docs
                String document = send(gatewayPort, "GET", "/openapi.json", null, null).body();
                assertThat(document).contains("\"/shop/items\"", "\"/shop/items/{id}\"", "ShopService_CreateItem",
                                              "NOT_FOUND when no item has that id.");
                assertThat(send(gatewayPort, "GET", "/docs", null, null).statusCode()).isEqualTo(200);
            } finally {
                processes.forEach(JavaProcess::close);
            }
        }
    }

    /* Runs this checkout's Maven wrapper in a directory with this JVM's JDK; fails with the end of its output. */
    private static String maven(Path directory, String... arguments) throws IOException, InterruptedException {
        // offline: this build has fetched every plugin and library the new service needs, and installed the rest
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("mvnw").toString(), "-B", "-o"));
        command.addAll(List.of(arguments));
        Path log = Files.createTempFile("new-service-maven-", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process maven = builder.start();
        boolean done = maven.waitFor(300, TimeUnit.SECONDS);
        String output = Files.readString(log);
        if (!done) {
            maven.destroyForcibly();
        }
        assertThat(done && maven.exitValue() == 0).as("mvn %s in %s:\n%s", String.join(" ", arguments), directory,
                                                      tail(output)).isTrue();
        return output;
    }

    private static String tail(String output) {
        List<String> lines = output.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
