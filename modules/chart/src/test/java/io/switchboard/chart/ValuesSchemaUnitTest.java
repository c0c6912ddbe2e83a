package io.switchboard.chart;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ValuesSchemaUnitTest {
    /*
     * Where the schema is deliberately open: Helm's own `global`, and the inside of Kubernetes Affinity, which the
     * API server validates. Maps (labels, annotations, resources) are closed by their value schema instead.
     */
    private static final Set<String> OPEN = Set.of("properties.global", "definitions.affinity.properties.nodeAffinity",
                                                   "definitions.affinity.properties.podAffinity",
                                                   "definitions.affinity.properties.podAntiAffinity");

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "a typo in a probe-like key     | hub: {readinesProbe: {}}",
            "an unknown top-level key       | gatway: {replicaCount: 1}",
            "a configuration key no one reads | hub: {config: {hub.wach-queue: 10}}",
            "a key of another component     | gateway: {config: {hub.watch-queue: 10}}",
            "the chart's own port key       | user: {config: {server.port: 9000}}",
            "an even etcd member count      | etcd: {replicaCount: 2}",
            "user replicas on SQLite        | user: {replicaCount: 2}",
            "post replicas without a Secret | post: {replicaCount: 2, postgresql: {url: 'jdbc:postgresql://pg/post'}}",
            "a database URL that is not PostgreSQL | post: {postgresql: {url: 'jdbc:mysql://db/post', existingSecret: s}}",
            "comment replicas on SQLite     | comment: {replicaCount: 2}",
            "a configuration key comment does not read | comment: {config: {user.token-ttl: PT1H}}",
            "external etcd with no endpoints | etcd: {enabled: false}",
            "a wrong balancing policy       | gateway: {config: {gateway.balancing: random}}",
            "a duration that is not ISO-8601 | user: {config: {user.token-ttl: 1h}}",
            "an unknown pull policy         | hub: {image: {pullPolicy: Sometimes}}",
            "an unknown env var field       | hub: {env: [{name: A, valu: b}]}",
            "a signing key Secret name that is no Secret name | user: {signingKey: {existingSecret: My_Key, key: k}}",
            "a signing key Secret key with a slash | user: {signingKey: {existingSecret: my-key, key: keys/pem}}",
            "an empty signing key Secret key | user: {signingKey: {existingSecret: my-key, key: ''}}",
            "a tracing endpoint that is no URL | tracing: {otlpEndpoint: 'otel-collector:4318'}",
            "a sampling ratio above 1       | tracing: {samplingRatio: 1.5}",
            "a negative sampling ratio      | tracing: {samplingRatio: -0.1}",
            "a CORS origin with a path      | gateway: {config: {gateway.cors.allowed-origins: 'https://app.example.com/'}}",
            "a CORS origin with no scheme   | gateway: {config: {gateway.cors.allowed-origins: 'app.example.com'}}",
            "a trusted proxy given by name  | gateway: {config: {gateway.trusted-proxies: 'ingress.internal'}}",
            "CORS origins separated by spaces | gateway: {config: {gateway.cors.allowed-origins: 'https://a.example https://b.example'}}",
    })
    void badValuesAreRejected(String what, String values) {
        assertThatThrownBy(() -> RenderedChart.render(values)).as(what).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("values don't meet the specifications of the schema");
    }

    @Test
    void theSameShapesWithGoodValuesRender() {
        RenderedChart.render("""
                hub: {config: {hub.watch-queue: 10}, env: [{name: A, value: b}]}
                etcd: {replicaCount: 3}
                post: {replicaCount: 2, postgresql: {url: 'jdbc:postgresql://pg/post', existingSecret: s}}
                comment: {replicaCount: 2, postgresql: {url: 'jdbc:postgresql://pg/comment', existingSecret: s}}
                user: {config: {user.token-ttl: PT1H}, signingKey: {existingSecret: sb.user-signing-key, key: signing_key.pem}}
                tracing: {otlpEndpoint: 'https://otel-collector.observability:4318', samplingRatio: 0}
                gateway: {config: {gateway.cors.allowed-origins: 'https://a.example,http://b.example:8080', gateway.cors.max-age: PT1H, gateway.trusted-proxies: '10.0.0.0/8, fd00::/8'}}
                """);
    }

    @Test
    void everyObjectInTheSchemaIsClosed() throws Exception {
        Map<?, ?> schema = Repository.YAML.readValue(Repository.CHART.resolve("values.schema.json").toFile(), Map.class);
        List<String> open = new ArrayList<>();
        walk(schema, "", open);

        assertThat(open).containsExactlyInAnyOrderElementsOf(OPEN);
    }

    private static void walk(Object node, String path, List<String> open) {
        if (node instanceof Map<?, ?> map) {
            if ("object".equals(map.get("type")) && !map.containsKey("additionalProperties")) {
                open.add(path);
            }
            map.forEach((key, value) -> walk(value, path.isEmpty() ? String.valueOf(key) : path + "." + key, open));
        } else if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                walk(list.get(i), path + "[" + i + "]", open);
            }
        }
    }
}
