package io.switchboard.chart;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import org.junit.jupiter.api.Test;

import static io.switchboard.chart.RenderedChart.render;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The rendered NetworkPolicies let in exactly the flows the architecture needs, read back from the objects: which
 * pods each policy selects, and which peers on which ports each of its rules admits. Every other connection to a
 * pod of the release is refused by a default-deny policy that selects them all. Prometheus reaches the management
 * ports (the observe endpoints) only, never an API port.
 */
class ChartNetworkPolicyUnitTest {
    private static final Set<String> FLOWS = Set.of(
            "anyone -> gateway:8008", "prometheus -> gateway:9008",
            "gateway -> hub:8004", "user -> hub:8004", "post -> hub:8004", "comment -> hub:8004", "prometheus -> hub:9004",
            "gateway -> user:8006", "post -> user:8006", "comment -> user:8006", "prometheus -> user:9006",
            "gateway -> post:8005", "comment -> post:8005", "prometheus -> post:9005",
            "gateway -> comment:8007", "prometheus -> comment:9007",
            "hub -> etcd:2379", "prometheus -> etcd:2381", "etcd -> etcd:2380");

    @Test
    void byDefaultOnlyTheArchitecturesFlowsAreLetIn() {
        RenderedChart chart = render("");

        assertThat(flows(chart)).containsExactlyInAnyOrderElementsOf(FLOWS);
        NetworkPolicy deny = chart.get(NetworkPolicy.class, "sb-switchboard-default-deny");
        assertThat(deny.getSpec().getPolicyTypes()).containsExactly("Ingress");
        assertThat(deny.getSpec().getIngress()).isNullOrEmpty();
        Map<String, PodTemplateSpec> pods = chart.podTemplates();
        assertThat(selected(pods, deny.getSpec().getPodSelector())).containsExactlyInAnyOrderElementsOf(pods.keySet());
    }

    @Test
    void theGatewayTakesCallsOnlyFromTheGivenPeers() {
        RenderedChart chart = render("""
                networkPolicy: {gateway: {from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress}}}]}}
                """);

        Set<String> expected = new TreeSet<>(FLOWS);
        expected.remove("anyone -> gateway:8008");
        expected.add("namespace ingress -> gateway:8008");
        expected.add("helm test -> gateway:8008");
        assertThat(flows(chart)).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void aServiceOfYourOwnGetsTheFlowsOfABusinessServiceAndThoseOfItsCalls() {
        RenderedChart chart = render("""
                services:
                  shop: {port: 8010, image: {repository: r/shop, tag: "1"}, calls: [post, stock]}
                  stock: {port: 8011, managementPort: 9111, image: {repository: r/stock, tag: "1"}}
                """);

        Set<String> expected = new TreeSet<>(FLOWS);
        expected.addAll(Set.of("shop -> hub:8004", "stock -> hub:8004", "shop -> user:8006", "stock -> user:8006",
                               "gateway -> shop:8010", "prometheus -> shop:9010", "gateway -> stock:8011",
                               "prometheus -> stock:9111", "shop -> post:8005", "shop -> stock:8011"));
        assertThat(flows(chart)).containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void aCallToNoServiceOfTheReleaseIsRefused() {
        assertThatThrownBy(() -> render("services: {shop: {port: 8010, image: {repository: r/shop, tag: '1'}, calls: [billing]}}"))
                .hasMessageContaining("services.shop.calls: \"billing\" is no service of this release");
    }

    @Test
    void anExternalEtcdHasNoPolicyAndTheyCanBeSwitchedOff() {
        RenderedChart external = render("etcd: {enabled: false, external: {endpoints: [\"http://etcd.db:2379\"]}}");
        assertThat(flows(external)).noneMatch(flow -> flow.contains("etcd"));

        assertThat(render("networkPolicy: {enabled: false}").all(NetworkPolicy.class)).isEmpty();
    }

    /* Every flow the policies let in, as "peer -> component:port". */
    private static Set<String> flows(RenderedChart chart) {
        Map<String, PodTemplateSpec> pods = chart.podTemplates();
        Set<String> flows = new TreeSet<>();
        for (NetworkPolicy policy : chart.all(NetworkPolicy.class)) {
            assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
            List<String> targets = selected(pods, policy.getSpec().getPodSelector()).stream().map(ChartNetworkPolicyUnitTest::component)
                    .distinct().toList();
            for (NetworkPolicyIngressRule rule : policy.getSpec().getIngress()) {
                List<String> peers = rule.getFrom() == null || rule.getFrom().isEmpty() ? List.of("anyone")
                        : rule.getFrom().stream().map(peer -> peer(pods, peer)).toList();
                for (String target : targets) {
                    for (var port : rule.getPorts()) {
                        assertThat(port.getProtocol()).isEqualTo("TCP");
                        peers.forEach(peer -> flows.add(peer + " -> " + target + ":" + port.getPort().getIntVal()));
                    }
                }
            }
        }
        return flows;
    }

    /* A peer as a name: the component whose pods it selects in this namespace, prometheus, or a namespace. */
    private static String peer(Map<String, PodTemplateSpec> pods, NetworkPolicyPeer peer) {
        if (peer.getNamespaceSelector() != null) {
            Map<String, String> pod = peer.getPodSelector() == null ? Map.of() : labels(peer.getPodSelector());
            if (pod.equals(Map.of("app.kubernetes.io/name", "prometheus"))) {
                assertThat(labels(peer.getNamespaceSelector())).as("any namespace").isEmpty();
                return "prometheus";
            }
            return "namespace " + labels(peer.getNamespaceSelector()).get("kubernetes.io/metadata.name");
        }
        if ("test".equals(labels(peer.getPodSelector()).get("app.kubernetes.io/component"))) {
            return "helm test";
        }
        List<String> components = selected(pods, peer.getPodSelector()).stream().map(ChartNetworkPolicyUnitTest::component)
                .distinct().toList();
        assertThat(components).as("a peer selects the pods of one component").hasSize(1);
        return components.getFirst();
    }

    private static List<String> selected(Map<String, PodTemplateSpec> pods, LabelSelector selector) {
        assertThat(selector.getMatchExpressions()).isNullOrEmpty();
        return pods.entrySet().stream()
                .filter(e -> e.getValue().getMetadata().getLabels().entrySet().containsAll(labels(selector).entrySet()))
                .map(Map.Entry::getKey).toList();
    }

    private static Map<String, String> labels(LabelSelector selector) {
        return selector.getMatchLabels() == null ? Map.of() : selector.getMatchLabels();
    }

    /* sb-switchboard-hub -> hub */
    private static String component(String workload) {
        return workload.substring(workload.lastIndexOf('-') + 1);
    }
}
