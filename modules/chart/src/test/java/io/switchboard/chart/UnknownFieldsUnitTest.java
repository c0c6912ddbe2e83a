package io.switchboard.chart;

import java.util.Map;

import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class UnknownFieldsUnitTest {
    private static final String DEPLOYMENT = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            spec:
              selector: {matchLabels: {a: b}}
              template:
                metadata: {labels: {a: b}}
                spec:
                  containers:
                    - name: c
                      image: i
                      %s:
                        httpGet: {path: /observe/health/ready, port: 8080}
            """;

    @Test
    void aMisspelledFieldDeepInAPodIsFound() throws Exception {
        Deployment typo = read(DEPLOYMENT.formatted("readinesProbe"));

        assertThat(UnknownFields.of(typo)).containsExactly("spec.template.spec.containers[0].readinesProbe");
    }

    @Test
    void knownFieldsAndFreeFormMapsPass() throws Exception {
        Deployment good = read(DEPLOYMENT.formatted("readinessProbe"));

        assertThat(UnknownFields.of(good)).isEmpty();
        assertThat(good.getSpec().getTemplate().getMetadata().getLabels()).isEqualTo(Map.of("a", "b"));
    }

    private static Deployment read(String yaml) throws Exception {
        return new YAMLMapper().readValue(yaml, Deployment.class);
    }
}
