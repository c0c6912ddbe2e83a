package io.switchboard.chart;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import org.junit.jupiter.api.Test;

import static io.switchboard.chart.RenderedChart.env;
import static io.switchboard.chart.RenderedChart.name;
import static io.switchboard.chart.RenderedChart.render;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The chart's workload identities (values tls.*): by default cert-manager issues each component a certificate that
 * names its service, from a CA the chart makes with cert-manager or from the operator's issuer; each component
 * mounts its own certificate only; probes and Prometheus use HTTPS where the component serves it. The plaintext
 * mode renders no certificate and says so to every component.
 */
class ChartTlsUnitTest {
    private static final String MOUNT = "/etc/switchboard/tls";
    private static final String ETCD = "/etc/etcd/tls";

    @Test
    void byDefaultEachComponentHasACertificateNamingItsServiceFromTheChartsOwnCa() {
        RenderedChart chart = render("");

        assertThat(chart.custom("Issuer")).extracting(ChartTlsUnitTest::objectName)
                .containsExactlyInAnyOrder("sb-switchboard-selfsigned", "sb-switchboard-ca");
        assertThat(spec(chart.custom("Issuer", "sb-switchboard-selfsigned")).get("selfSigned")).isEqualTo(Map.of());
        assertThat(spec(chart.custom("Issuer", "sb-switchboard-ca")).get("ca"))
                .isEqualTo(Map.of("secretName", "sb-switchboard-ca"));
        Map<?, ?> ca = spec(chart.custom("Certificate", "sb-switchboard-ca"));
        assertThat(ca.get("isCA")).isEqualTo(true);
        assertThat(ca.get("secretName")).isEqualTo("sb-switchboard-ca");
        assertThat(((Map<?, ?>) ca.get("issuerRef")).get("name")).isEqualTo("sb-switchboard-selfsigned");

        // the CA's, each component's, and etcd's
        assertThat(chart.custom("Certificate")).hasSize(1 + Repository.COMPONENTS.size() + 1);
        for (String component : Repository.COMPONENTS) {
            Map<?, ?> certificate = spec(chart.custom("Certificate", name(component) + "-tls"));
            assertThat(certificate.get("uris")).as(component)
                    .isEqualTo(List.of("spiffe://switchboard.local/service/" + component));
            assertThat(certificate.get("secretName")).isEqualTo(name(component) + "-tls");
            Map<?, ?> key = (Map<?, ?>) certificate.get("privateKey");
            assertThat(List.of(key.get("algorithm"), key.get("encoding"))).containsExactly("ECDSA", "PKCS8");
            assertThat(strings(certificate.get("usages"))).contains("server auth", "client auth");
            assertThat(certificate.get("issuerRef"))
                    .isEqualTo(Map.of("name", "sb-switchboard-ca", "kind", "Issuer", "group", "cert-manager.io"));
            assertThat(strings(certificate.get("dnsNames"))).contains(name(component) + ".apps.svc");

            Container container = chart.container(component);
            assertThat(env(container, "TLS_PLAINTEXT")).isEmpty();
            assertThat(env(container, "TLS_CERTIFICATE")).contains(MOUNT + "/tls.crt");
            assertThat(env(container, "TLS_PRIVATE_KEY")).contains(MOUNT + "/tls.key");
            assertThat(env(container, "TLS_TRUST_BUNDLE")).contains(MOUNT + "/ca.crt");
            assertThat(container.getVolumeMounts()).anySatisfy(mount -> {
                assertThat(mount.getMountPath()).isEqualTo(MOUNT);
                assertThat(mount.getReadOnly()).isTrue();
                assertThat(secretOf(pod(chart, component), mount.getName())).contains(name(component) + "-tls");
            });
            // its own certificate only: no other component's, and never the CA's key
            assertThat(pod(chart, component).getVolumes()).extracting(v -> secretOf(pod(chart, component), v.getName()))
                    .filteredOn(Optional::isPresent).extracting(Optional::get)
                    .allMatch(secret -> secret.equals(name(component) + "-tls") || !secret.endsWith("-tls"))
                    .doesNotContain("sb-switchboard-ca");
            Volume identity = pod(chart, component).getVolumes().stream().filter(v -> v.getName().equals("identity"))
                    .findFirst().orElseThrow();
            assertThat(identity.getSecret().getDefaultMode()).as("owner and group read only").isEqualTo(0440);

            // the management port serves TLS with the identity, the gateway's too (its public edge is another port)
            assertThat(List.of(container.getStartupProbe(), container.getLivenessProbe(), container.getReadinessProbe()))
                    .allSatisfy(probe -> assertThat(probe.getHttpGet().getScheme()).as(component).isEqualTo("HTTPS"));
            assertThat(chart.get(Deployment.class, name(component)).getSpec().getTemplate().getMetadata().getAnnotations())
                    .containsEntry("prometheus.io/scheme", "https");
        }
    }

    @Test
    void etcdServesClientsAndPeersOverMutualTlsAndTheHubDialsItSo() {
        RenderedChart chart = render("etcd: {replicaCount: 3}");

        Map<?, ?> certificate = spec(chart.custom("Certificate", name("etcd") + "-tls"));
        assertThat(certificate.get("uris")).isEqualTo(List.of("spiffe://switchboard.local/service/etcd"));
        assertThat(strings(certificate.get("dnsNames")))
                .contains("*." + name("etcd") + "-headless.apps.svc.cluster.local", "localhost");
        assertThat(strings(certificate.get("ipAddresses"))).containsExactly("127.0.0.1");
        assertThat(strings(certificate.get("usages"))).contains("server auth", "client auth");

        PodSpec pod = chart.get(StatefulSet.class, name("etcd")).getSpec().getTemplate().getSpec();
        List<String> args = pod.getContainers().getFirst().getArgs();
        assertThat(args).contains("--client-cert-auth", "--peer-client-cert-auth", "--cert-file=" + ETCD + "/tls.crt",
                                  "--key-file=" + ETCD + "/tls.key", "--trusted-ca-file=" + ETCD + "/ca.crt",
                                  "--peer-cert-file=" + ETCD + "/tls.crt", "--peer-trusted-ca-file=" + ETCD + "/ca.crt",
                                  "--listen-client-urls=https://0.0.0.0:2379", "--listen-peer-urls=https://0.0.0.0:2380");
        assertThat(pod.getContainers().getFirst().getVolumeMounts())
                .anySatisfy(mount -> assertThat(mount.getMountPath()).isEqualTo(ETCD));
        assertThat(secretOf(pod, "identity")).contains(name("etcd") + "-tls");
        assertThat(env(chart.container("hub"), "ETCD_ENDPOINTS").orElseThrow().split(","))
                .hasSize(3).allMatch(url -> url.startsWith("https://"));

        RenderedChart plaintext = render("tls: {mode: plaintext}");
        List<String> plainArgs = plaintext.get(StatefulSet.class, name("etcd")).getSpec().getTemplate().getSpec()
                .getContainers().getFirst().getArgs();
        assertThat(plainArgs).contains("--listen-client-urls=http://0.0.0.0:2379").noneMatch(a -> a.contains("cert"));
        assertThat(env(plaintext.container("hub"), "ETCD_ENDPOINTS").orElseThrow()).startsWith("http://");
    }

    @Test
    void anIssuerOfTheOperatorsReplacesTheChartsCaAndTheTrustDomainIsTheirs() {
        RenderedChart chart = render("""
                tls: {trustDomain: example.org,
                      certManager: {issuerRef: {name: corp-ca, kind: ClusterIssuer, group: cert-manager.io}}}
                """);

        assertThat(chart.custom("Issuer")).isEmpty();
        assertThat(chart.custom("Certificate")).extracting(ChartTlsUnitTest::objectName)
                .containsExactlyInAnyOrderElementsOf(java.util.stream.Stream.concat(Repository.COMPONENTS.stream(),
                                                                                  java.util.stream.Stream.of("etcd"))
                                                             .map(c -> name(c) + "-tls").toList());
        for (String component : Repository.COMPONENTS) {
            Map<?, ?> certificate = spec(chart.custom("Certificate", name(component) + "-tls"));
            assertThat(certificate.get("issuerRef"))
                    .isEqualTo(Map.of("name", "corp-ca", "kind", "ClusterIssuer", "group", "cert-manager.io"));
            assertThat(certificate.get("uris")).isEqualTo(List.of("spiffe://example.org/service/" + component));
        }
    }

    @Test
    void withoutCertManagerEachComponentMountsTheOperatorsSecretAndEtcdStillServesMutualTls() {
        RenderedChart chart = render("tls: {mode: secrets}\netcd: {replicaCount: 3}");

        assertThat(chart.custom("Certificate")).isEmpty();
        assertThat(chart.custom("Issuer")).isEmpty();
        for (String component : Repository.COMPONENTS) {
            Container container = chart.container(component);
            assertThat(env(container, "TLS_PLAINTEXT")).isEmpty();
            assertThat(env(container, "TLS_CERTIFICATE")).contains(MOUNT + "/tls.crt");
            assertThat(env(container, "TLS_PRIVATE_KEY")).contains(MOUNT + "/tls.key");
            assertThat(env(container, "TLS_TRUST_BUNDLE")).contains(MOUNT + "/ca.crt");
            assertThat(secretOf(pod(chart, component), "identity")).contains(name(component) + "-tls");
            assertThat(container.getReadinessProbe().getHttpGet().getScheme()).as(component).isEqualTo("HTTPS");
        }
        PodSpec etcd = chart.get(StatefulSet.class, name("etcd")).getSpec().getTemplate().getSpec();
        assertThat(etcd.getContainers().getFirst().getArgs())
                .contains("--client-cert-auth", "--peer-client-cert-auth", "--listen-client-urls=https://0.0.0.0:2379");
        assertThat(secretOf(etcd, "identity")).contains(name("etcd") + "-tls");
        assertThat(env(chart.container("hub"), "ETCD_ENDPOINTS").orElseThrow().split(","))
                .hasSize(3).allMatch(url -> url.startsWith("https://"));
    }

    @Test
    void plaintextModeRendersNoCertificateAndTellsEveryComponent() {
        RenderedChart chart = render("tls: {mode: plaintext}");

        assertThat(chart.custom("Certificate")).isEmpty();
        assertThat(chart.custom("Issuer")).isEmpty();
        for (String component : Repository.COMPONENTS) {
            Container container = chart.container(component);
            assertThat(env(container, "TLS_PLAINTEXT")).contains("true");
            assertThat(env(container, "TLS_CERTIFICATE")).isEmpty();
            assertThat(pod(chart, component).getVolumes()).extracting(Volume::getName).doesNotContain("identity");
            assertThat(container.getReadinessProbe().getHttpGet().getScheme()).isEqualTo("HTTP");
        }
    }

    @Test
    void prometheusScrapesEveryManagementPortOverTlsTrustingItsCa() {
        RenderedChart chart = render("metrics: {serviceMonitor: {enabled: true}}");

        for (String component : Repository.COMPONENTS) {
            Map<?, ?> endpoint = (Map<?, ?>) ((List<?>) spec(chart.custom("ServiceMonitor", name(component)))
                    .get("endpoints")).getFirst();
            assertThat(endpoint.get("port")).isEqualTo("management");
            assertThat(endpoint.get("scheme")).isEqualTo("https");
            Map<?, ?> tls = (Map<?, ?>) endpoint.get("tlsConfig");
            assertThat(tls.get("ca")).isEqualTo(Map.of("secret", Map.of("name", name(component) + "-tls", "key", "ca.crt")));
            assertThat(tls.get("serverName")).isEqualTo(name(component));
        }
    }

    @Test
    void badTlsValuesAreRejectedByTheSchema() {
        for (String values : List.of("tls: {mode: mtls}", "tls: {trustDomain: Bad_Domain}",
                                     "tls: {certManager: {issuerRef: {kind: ClusterIssuer}}}",
                                     "tls: {certManager: {issuerRef: {name: x, kind: Secret}}}",
                                     "tls: {certManager: {duration: 90d}}", "tls: {extra: 1}")) {
            assertThatThrownBy(() -> render(values)).as(values).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("values don't meet the specifications of the schema");
        }
    }

    private static List<String> strings(Object list) {
        return ((List<?>) list).stream().map(String::valueOf).toList();
    }

    private static String objectName(Map<String, Object> object) {
        return String.valueOf(((Map<?, ?>) object.get("metadata")).get("name"));
    }

    private static Map<?, ?> spec(Map<String, Object> object) {
        return (Map<?, ?>) object.get("spec");
    }

    private static PodSpec pod(RenderedChart chart, String component) {
        return chart.get(Deployment.class, name(component)).getSpec().getTemplate().getSpec();
    }

    private static Optional<String> secretOf(PodSpec pod, String volume) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(volume) && v.getSecret() != null).findFirst()
                .map(v -> v.getSecret().getSecretName());
    }
}
