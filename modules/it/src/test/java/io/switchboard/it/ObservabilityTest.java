package io.switchboard.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import io.switchboard.testkit.PrometheusServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.it.Api.send;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The stack as an operator watches it: a real Prometheus with deploy/prometheus.yml scrapes etcd and all five components,
 * every target is up and the key series are there; every component's metrics pass {@code promtool check metrics}.
 */
@Timeout(value = 150, unit = SECONDS)
class ObservabilityTest {

    @Test
    void prometheusScrapesEveryComponentAndFindsTheKeySeries() throws Exception {
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String component : List.of("hub", "post", "user", "comment", "gateway")) {
            ports.put(component, FreePorts.next());
        }
        try (EtcdServer etcd = EtcdServer.start()) {
            List<JavaProcess> processes = new ArrayList<>();
            try {
                processes.add(Components.hub(etcd.endpoint(), ports.get("hub")));
                processes.add(Components.service("post", ports.get("hub"), ports.get("post"),
                                                 Files.createTempDirectory("obs-post-")));
                processes.add(Components.service("user", ports.get("hub"), ports.get("user"),
                                                 Files.createTempDirectory("obs-user-")));
                processes.add(Components.service("comment", ports.get("hub"), ports.get("comment"),
                                                 Files.createTempDirectory("obs-comment-")));
                processes.add(Components.gateway(ports.get("hub"), ports.get("gateway"), Map.of()));
                await().atMost(Duration.ofSeconds(40)).until(() -> ports.values().stream().allMatch(Components::ready));

                String token = Api.registerAndLogin(ports.get("gateway"), "+4425000000");
                String id = Api.find(Api.ID, send(ports.get("gateway"), "POST", "/post",
                                                  "{\"title\":\"t\",\"content\":\"c\"}", token));
                assertThat(send(ports.get("gateway"), "POST", "/post/" + id + "/comments", "{\"text\":\"c\"}", token)
                                   .statusCode()).isEqualTo(201);
                // every component has served calls: each metric family is present for promtool to judge
                for (Map.Entry<String, Integer> component : ports.entrySet()) {
                    String metrics = get(component.getValue(), "/observe/metrics");
                    List<String> problems = promtool(metrics);
                    assertThat(problems).as("promtool check metrics on %s", component.getKey()).isEmpty();
                }

                String config = localConfig(etcd, ports);
                AtomicBoolean stop = new AtomicBoolean();
                Thread traffic = Thread.ofVirtual().start(() -> {
                    while (!stop.get()) {
                        send(ports.get("gateway"), "GET", "/post/" + id, null, null);
                        sleep(50);
                    }
                });
                try (PrometheusServer prometheus = PrometheusServer.start(config)) {
                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                            .untilAsserted(() -> assertThat(upTargets(prometheus))
                                    .as(prometheus.api("/api/v1/targets"))
                                    .containsExactlyInAnyOrder("etcd", "hub", "post", "user", "comment", "gateway"));
                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                        assertThat(values(prometheus, "sum by (route) (rate(switchboard_gateway_requests_total[5s]))"))
                                .as("request rate by route").containsKey("route=/post/{id}");
                        assertThat(values(prometheus, "histogram_quantile(0.99, sum by (route, le) "
                                                      + "(rate(switchboard_gateway_request_duration_seconds_bucket[5s])))"))
                                .as("p99 latency by route").containsKey("route=/post/{id}");
                    });
                    assertThat(values(prometheus, "sum by (service) (switchboard_gateway_instances)"))
                            .containsEntry("service=post", 1.0).containsEntry("service=user", 1.0)
                            .containsEntry("service=comment", 1.0);
                    assertThat(values(prometheus, "sum by (job) (switchboard_registration_healthy)"))
                            .containsEntry("job=post", 1.0).containsEntry("job=user", 1.0)
                            .containsEntry("job=comment", 1.0);
                    assertThat(values(prometheus, "sum(switchboard_hub_instances)")).containsValue(3.0);
                    assertThat(values(prometheus, "sum(switchboard_hub_etcd_up)")).containsValue(1.0);
                    assertThat(values(prometheus, "sum(etcd_server_has_leader)")).containsValue(1.0);
                    // every component says when the certificate it presents ends (about 90 days from now)
                    assertThat(values(prometheus, "min by (job) (switchboard_tls_certificate_expiration_timestamp_seconds"
                                                  + " - time()) > 89 * 86400"))
                            .containsOnlyKeys("job=hub", "job=post", "job=user", "job=comment", "job=gateway");
                    assertThat(values(prometheus, "sum by (job) (switchboard_rpc_server_calls_total)"))
                            .containsKeys("job=post", "job=user", "job=comment");
                } finally {
                    stop.set(true);
                    traffic.join(5_000);
                }
            } finally {
                processes.forEach(JavaProcess::close);
            }
        }
    }

    /* deploy/prometheus.yml pointed at this test's ports and scraping every second. */
    private static String localConfig(EtcdServer etcd, Map<String, Integer> ports) throws IOException {
        String config = Files.readString(Path.of("..", "..", "deploy", "prometheus.yml"));
        Map<String, String> replacements = new LinkedHashMap<>();
        replacements.put("127.0.0.1:2379", URI.create(etcd.endpoint()).getAuthority());
        // the management ports, where the metrics are
        replacements.put("127.0.0.1:9004", "127.0.0.1:" + Components.managementPort(ports.get("hub")));
        replacements.put("127.0.0.1:9005", "127.0.0.1:" + Components.managementPort(ports.get("post")));
        replacements.put("127.0.0.1:9006", "127.0.0.1:" + Components.managementPort(ports.get("user")));
        replacements.put("127.0.0.1:9007", "127.0.0.1:" + Components.managementPort(ports.get("comment")));
        replacements.put("127.0.0.1:9008", "127.0.0.1:" + Components.managementPort(ports.get("gateway")));
        replacements.put("scrape_interval: 5s", "scrape_interval: 1s");
        replacements.put("../data/identity/ca.pem", Components.CA.resolve("ca.pem").toString());
        for (Map.Entry<String, String> replacement : replacements.entrySet()) {
            assertThat(config).as("deploy/prometheus.yml").contains(replacement.getKey());
            config = config.replace(replacement.getKey(), replacement.getValue());
        }
        return config;
    }

    private static Set<String> upTargets(PrometheusServer prometheus) {
        Set<String> jobs = new HashSet<>();
        JsonArray targets = data(prometheus.api("/api/v1/targets")).getAsJsonArray("activeTargets");
        for (JsonElement target : targets) {
            JsonObject t = target.getAsJsonObject();
            if (t.get("health").getAsString().equals("up")) {
                jobs.add(t.getAsJsonObject("labels").get("job").getAsString());
            }
        }
        return jobs;
    }

    /* An instant query's result as "label=value,..." (without __name__, instance) to its value. */
    private static Map<String, Double> values(PrometheusServer prometheus, String promql) {
        Map<String, Double> values = new LinkedHashMap<>();
        for (JsonElement element : data(prometheus.query(promql)).getAsJsonArray("result")) {
            JsonObject sample = element.getAsJsonObject();
            List<String> labels = new ArrayList<>();
            sample.getAsJsonObject("metric").entrySet().stream()
                    .filter(e -> !e.getKey().equals("__name__") && !e.getKey().equals("instance"))
                    .forEach(e -> labels.add(e.getKey() + "=" + e.getValue().getAsString()));
            String value = sample.getAsJsonArray("value").get(1).getAsString();
            values.put(String.join(",", labels), value.equals("NaN") ? Double.NaN : Double.parseDouble(value));
        }
        return values;
    }

    private static JsonObject data(String body) {
        JsonObject answer = JsonParser.parseString(body).getAsJsonObject();
        assertThat(answer.get("status").getAsString()).as(body).isEqualTo("success");
        return answer.getAsJsonObject("data");
    }

    /* promtool's complaints about a metrics text (none when it follows the conventions). */
    private static List<String> promtool(String metrics) throws Exception {
        Process check = new ProcessBuilder(PrometheusServer.binary("promtool").toString(), "check", "metrics")
                .redirectErrorStream(true).start();
        try (var in = check.getOutputStream()) {
            in.write(metrics.getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(check.waitFor(10, TimeUnit.SECONDS)).isTrue();
        List<String> problems = new ArrayList<>(output.lines().filter(line -> !line.isBlank()).toList());
        if (check.exitValue() != 0 && problems.isEmpty()) {
            problems.add("promtool exited with " + check.exitValue());
        }
        return problems;
    }

    private static String get(int port, String path) throws Exception {
        return Components.HTTP.send(HttpRequest.newBuilder(Components.url(port, path))
                                 .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
