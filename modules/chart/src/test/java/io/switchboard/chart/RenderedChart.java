package io.switchboard.chart;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;

/**
 * The chart rendered by Helm ({@code helm template}, values.schema.json enforced) and read back as typed
 * Kubernetes objects. A kind the chart is not meant to produce, or a field Kubernetes does not know, fails the
 * rendering.
 */
final class RenderedChart {
    static final String RELEASE = "sb";
    static final String NAMESPACE = "apps";
    /** helm-java's template otherwise assumes 1.20, older than the chart's kubeVersion allows. */
    static final String KUBERNETES = "1.31.0";
    private static final ObjectMapper MAPPER = new YAMLMapper();
    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "Deployment", Deployment.class, "StatefulSet", StatefulSet.class, "Service", Service.class,
            "PersistentVolumeClaim", PersistentVolumeClaim.class, "Secret", Secret.class,
            "PodDisruptionBudget", PodDisruptionBudget.class, "Ingress", Ingress.class, "Pod", Pod.class,
            "NetworkPolicy", NetworkPolicy.class);

    private static final Set<String> CUSTOM_KINDS = Set.of("ServiceMonitor", "Certificate", "Issuer");

    final List<HasMetadata> objects = new ArrayList<>();
    /** Custom resources (ServiceMonitor, cert-manager's), which fabric8's core model does not type: kept as maps. */
    final List<Map<String, Object>> custom = new ArrayList<>();

    private RenderedChart(String manifests) {
        try (MappingIterator<Map<String, Object>> documents = MAPPER.readerForMapOf(Object.class).readValues(manifests)) {
            while (documents.hasNext()) {
                Map<String, Object> document = documents.next();
                if (document == null || document.isEmpty()) {
                    continue;
                }
                String kind = (String) document.get("kind");
                if (CUSTOM_KINDS.contains(kind)) {
                    custom.add(document);
                    continue;
                }
                Class<? extends HasMetadata> type = KINDS.get(kind);
                if (type == null) {
                    throw new AssertionError("the chart renders a kind no check knows: " + kind);
                }
                HasMetadata object = MAPPER.convertValue(document, type);
                List<String> unknown = UnknownFields.of(object);
                if (!unknown.isEmpty()) {
                    throw new AssertionError(kind + " " + object.getMetadata().getName() + " has fields Kubernetes does not know: "
                                             + unknown);
                }
                objects.add(object);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Renders the chart with its defaults overridden by {@code values}, a values file's text.
     *
     * @throws IllegalStateException from Helm, for instance when the values break the schema
     */
    static RenderedChart render(String values) {
        try {
            Path file = Files.createTempFile("values", ".yaml");
            try {
                Files.writeString(file, values);
                return new RenderedChart(new Helm(Repository.CHART).template().withName(RELEASE).withNamespace(NAMESPACE)
                                                 .withKubeVersion(KUBERNETES).withValuesFile(file).call());
            } finally {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The custom resources of a kind, as maps. */
    List<Map<String, Object>> custom(String kind) {
        return custom.stream().filter(o -> kind.equals(o.get("kind"))).toList();
    }

    /** The custom resource of a kind with that name. */
    Map<String, Object> custom(String kind, String name) {
        return custom(kind).stream().filter(o -> name.equals(((Map<?, ?>) o.get("metadata")).get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> Optional<T> find(Class<T> type, String name) {
        return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst();
    }

    <T extends HasMetadata> T get(Class<T> type, String name) {
        return find(type, name).orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
    }

    /** The object name of a component, e.g. sb-switchboard-hub. */
    static String name(String component) {
        return RELEASE + "-switchboard-" + component;
    }

    /** Every pod template the chart makes (Deployments and the StatefulSet), by object name. */
    Map<String, PodTemplateSpec> podTemplates() {
        Map<String, PodTemplateSpec> templates = new java.util.TreeMap<>();
        all(Deployment.class).forEach(d -> templates.put(d.getMetadata().getName(), d.getSpec().getTemplate()));
        all(StatefulSet.class).forEach(s -> templates.put(s.getMetadata().getName(), s.getSpec().getTemplate()));
        return templates;
    }

    /** The one container of a component's Deployment. */
    Container container(String component) {
        List<Container> containers = get(Deployment.class, name(component)).getSpec().getTemplate().getSpec().getContainers();
        if (containers.size() != 1) {
            throw new AssertionError(component + " has " + containers.size() + " containers");
        }
        return containers.getFirst();
    }

    /** A plain value of a container's environment variable, empty when not set or not a plain value. */
    static Optional<String> env(Container container, String name) {
        return container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst().map(e -> e.getValue());
    }
}
