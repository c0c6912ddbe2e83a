package io.switchboard.chart;

import java.io.IOException;
import java.nio.file.Files;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.switchboard.chart.RenderedChart.env;
import static io.switchboard.chart.RenderedChart.name;
import static io.switchboard.chart.RenderedChart.render;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A service of your own (values {@code services}), from the block the archetype writes to its helm-values.yaml, is
 * deployed as post is.
 */
class ChartOwnServicesUnitTest {
    /* the archetype's helm-values.yaml, as it comes out for -Dservice=shop with the default ports */
    private static String archetypeValues() throws IOException {
        return Files.readString(Repository.ROOT.resolve(
                        "modules/archetype/src/main/resources/archetype-resources/helm-values.yaml"))
                .replace("${service}", "shop").replace("${port}", "8010").replace("${managementPort}", "9010")
                .replace("${version}", "1.0.0");
    }

    @Test
    void theArchetypesBlockDeploysTheServiceAsPostIsDeployed() throws IOException {
        RenderedChart chart = render(archetypeValues() + "metrics: {serviceMonitor: {enabled: true}}\n");

        Deployment deployment = chart.get(Deployment.class, name("shop"));
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
        assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("Recreate");
        Container container = chart.container("shop");
        assertThat(container.getImage()).isEqualTo("switchboard/shop:1.0.0");
        assertThat(container.getPorts()).extracting(ContainerPort::getContainerPort).containsExactly(8010, 9010);
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/observe/health/ready");
        assertThat(container.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("management");
        assertThat(container.getReadinessProbe().getHttpGet().getScheme()).isEqualTo("HTTPS");
        assertThat(env(container, "HUB_ENDPOINTS")).contains(name("hub") + ":8004");
        assertThat(env(container, "TLS_CERTIFICATE")).contains("/etc/switchboard/tls/tls.crt");
        assertThat(env(container, "DATA_DIR")).contains("/data");
        assertThat(container.getEnv()).anyMatch(e -> e.getName().equals("REGISTRY_ADVERTISE_HOST")
                                                      && e.getValueFrom().getFieldRef().getFieldPath().equals("status.podIP"));
        assertThat(env(container, "JDK_JAVA_OPTIONS")).hasValueSatisfying(o -> assertThat(o).contains("MaxRAMPercentage=40"));
        assertThat(chart.get(PersistentVolumeClaim.class, name("shop") + "-data").getSpec().getResources().getRequests()
                           .get("storage").toString()).isEqualTo("1Gi");
        assertThat(chart.get(Service.class, name("shop")).getSpec().getPorts()).anyMatch(p -> p.getPort() == 8010)
                .anyMatch(p -> p.getPort() == 9010 && p.getName().equals("management"));
        assertThat(chart.custom("Certificate", name("shop") + "-tls")).satisfies(certificate -> assertThat(
                certificate.get("spec").toString()).contains("spiffe://switchboard.local/service/shop"));
        assertThat(chart.custom("ServiceMonitor", name("shop"))).isNotNull();
        // locked down like every pod
        assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    }

    @Test
    void itsConfigurationPostgresAndReplicasAreSetAsPostsAre() {
        RenderedChart chart = render("""
                services:
                  shop:
                    port: 8010
                    image: {repository: r/shop, tag: "2.0"}
                    replicaCount: 2
                    postgresql: {url: "jdbc:postgresql://pg:5432/shop", existingSecret: shop-db}
                    config: {registry.ttl: 15, shop.greeting: hello}
                """);

        Deployment deployment = chart.get(Deployment.class, name("shop"));
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
        assertThat(deployment.getSpec().getStrategy()).isNull();
        Container container = chart.container("shop");
        assertThat(env(container, "DB_URL")).contains("jdbc:postgresql://pg:5432/shop");
        assertThat(env(container, "REGISTRY_TTL")).contains("15");
        assertThat(env(container, "SHOP_GREETING")).contains("hello");
        EnvVar password = container.getEnv().stream().filter(e -> e.getName().equals("DB_PASSWORD")).findFirst().orElseThrow();
        assertThat(password.getValueFrom().getSecretKeyRef().getName()).isEqualTo("shop-db");
        assertThat(chart.all(PersistentVolumeClaim.class)).noneMatch(c -> c.getMetadata().getName().contains("shop"));
    }

    @Test
    void whatTheBlockSaysWinsFalseAndZeroTooAndItsPortIsThePortItServes() {
        RenderedChart chart = render("""
                services:
                  shop:
                    port: 9090
                    image: {repository: r/shop, tag: "1"}
                    replicaCount: 2
                    postgresql: {url: "jdbc:postgresql://pg:5432/shop", existingSecret: shop-db}
                    podDisruptionBudget: {enabled: false}
                    preStopSleepSeconds: 0
                """);

        assertThat(chart.find(io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class, name("shop"))).isEmpty();
        Container container = chart.container("shop");
        assertThat(container.getLifecycle().getPreStop().getSleep().getSeconds()).isZero();
        assertThat(env(container, "SERVER_PORT")).contains("9090");
        // no managementPort in the block: the port + 1000
        assertThat(env(container, "SERVER_MANAGEMENT_PORT")).contains("10090");
        assertThat(container.getPorts()).extracting(ContainerPort::getContainerPort).containsExactly(9090, 10090);
        assertThat(container.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("management");
    }

    @Test
    void aManagementPortIsAPortOfItsOwn() {
        assertThatThrownBy(() -> render("services: {shop: {port: 8010, managementPort: 8010, image: {repository: r/shop, tag: '1'}}}"))
                .hasMessageContaining("services.shop.managementPort must differ from its port 8010");
        assertThatThrownBy(() -> render("services: {shop: {port: 8010, managementPort: 80, image: {repository: r/shop, tag: '1'}}}"))
                .hasMessageContaining("values don't meet the specifications of the schema");
        Container container = render("services: {shop: {port: 8010, managementPort: 9999, image: {repository: r/shop, tag: '1'}}}")
                .container("shop");
        assertThat(env(container, "SERVER_MANAGEMENT_PORT")).contains("9999");
    }

    @Test
    void aCallToNoServiceOfTheReleaseIsRefusedWithoutNetworkPoliciesToo() {
        assertThatThrownBy(() -> render("""
                networkPolicy: {enabled: false}
                services: {shop: {port: 8010, image: {repository: r/shop, tag: '1'}, calls: [billing]}}
                """)).hasMessageContaining("services.shop.calls: \"billing\" is no service of this release");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "the gateway's own docs path         | services: {docs: {port: 8010, image: {repository: r, tag: '1'}}}",
            "a name that is not a registry name | services: {Shop: {port: 8010, image: {repository: r, tag: '1'}}}",
            "a name of the platform's own       | services: {user: {port: 8010, image: {repository: r, tag: '1'}}}",
            "no port                            | services: {shop: {image: {repository: r, tag: '1'}}}",
            "no image tag                       | services: {shop: {port: 8010, image: {repository: r}}}",
            "a privileged port                  | services: {shop: {port: 80, image: {repository: r, tag: '1'}}}",
            "a key no service has               | services: {shop: {port: 8010, image: {repository: r, tag: '1'}, replicas: 2}}",
            "replicas on SQLite                 | services: {shop: {port: 8010, image: {repository: r, tag: '1'}, replicaCount: 2}}",
    })
    void badBlocksAreRejected(String what, String values) {
        assertThatThrownBy(() -> render(values)).as(what).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("values don't meet the specifications of the schema");
    }

    @Test
    void noServicesNoExtraObjects() {
        assertThat(render("").all(Deployment.class)).hasSize(5);
        assertThat(render("services: {}").all(Deployment.class)).extracting(d -> d.getMetadata().getName())
                .doesNotContain(name("shop"));
    }
}
