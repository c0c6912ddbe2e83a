package io.switchboard.chart;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.switchboard.chart.RenderedChart.env;
import static io.switchboard.chart.RenderedChart.name;
import static io.switchboard.chart.RenderedChart.render;
import static org.assertj.core.api.Assertions.assertThat;

class ChartUnitTest {
    private static final String QUORUM_AND_POSTGRES = """
            etcd: {replicaCount: 3}
            user: {replicaCount: 2, postgresql: {url: "jdbc:postgresql://pg:5432/user", existingSecret: user-db}}
            post: {replicaCount: 3, postgresql: {url: "jdbc:postgresql://pg:5432/post", existingSecret: post-db}}
            comment: {replicaCount: 2, postgresql: {url: "jdbc:postgresql://pg:5432/comment", existingSecret: comment-db}}
            gateway: {ingress: {enabled: true, className: nginx}}
            metrics: {serviceMonitor: {enabled: true}}
            """;
    // every configuration key the chart lets a user set, so that each one's environment variable is checked
    private static final String ALL_CONFIG = """
            hub: {config: {hub.watch-queue: 1048576, server.shutdown-grace-period: PT10S}}
            gateway: {config: {gateway.body-limit: 2097152, gateway.balancing: least-outstanding,
                               gateway.login-limit.capacity: 20, gateway.login-limit.per-second: 0.5}}
            post: {config: {registry.ttl: 15, registry.zone: eu-1a, registry.version: 1.2.3, registry.weight: 50,
                            db.pool-size: 6}}
            comment: {config: {registry.ttl: 12, db.pool-size: 3}}
            user: {config: {user.token-ttl: PT30M, user.login.max-failures: 3, user.login.window: PT10M,
                            user.argon2.memory-kib: 65536, user.argon2.iterations: 3, user.extra-public-keys: '{"keys":[]}',
                            registry.ttl: 20}}
            """;
    private static final List<String> VARIANTS = List.of("", QUORUM_AND_POSTGRES, ALL_CONFIG);

    @Test
    void lintsCleanInStrictMode() {
        LintResult lint = new Helm(Repository.CHART).lint().strict().call();

        assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
    }

    @Test
    void defaultsGiveEveryComponentAndEtcdWithOneMember() {
        RenderedChart chart = render("");

        assertThat(chart.all(Deployment.class)).extracting(d -> d.getMetadata().getName())
                .containsExactlyInAnyOrder(name("hub"), name("gateway"), name("user"), name("post"), name("comment"));
        assertThat(chart.get(Deployment.class, name("hub")).getSpec().getReplicas()).isEqualTo(2);
        assertThat(chart.get(Deployment.class, name("gateway")).getSpec().getReplicas()).isEqualTo(2);
        assertThat(chart.get(StatefulSet.class, name("etcd")).getSpec().getReplicas()).isEqualTo(1);
        assertThat(chart.all(Ingress.class)).isEmpty();
        assertThat(chart.custom("ServiceMonitor")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void probesAndPortsAreTheOnesEachComponentServes(int variant) {
        RenderedChart chart = render(VARIANTS.get(variant));

        for (String component : Repository.COMPONENTS) {
            Container container = chart.container(component);
            int management = Repository.managementPort(component);
            assertThat(management).as(component).isEqualTo(Repository.port(component) + 1000);
            assertThat(container.getPorts()).extracting(ContainerPort::getContainerPort)
                    .containsExactly(Repository.port(component), management);
            assertThat(env(container, "SERVER_PORT")).isEmpty();
            assertThat(env(container, "SERVER_MANAGEMENT_PORT")).contains(String.valueOf(management));
            assertHttpProbe(container, container.getStartupProbe().getHttpGet(), "/observe/health/live", management);
            assertHttpProbe(container, container.getLivenessProbe().getHttpGet(), "/observe/health/live", management);
            assertHttpProbe(container, container.getReadinessProbe().getHttpGet(), "/observe/health/ready", management);
            Map<String, String> annotations = chart.get(Deployment.class, name(component)).getSpec().getTemplate().getMetadata()
                    .getAnnotations();
            assertThat(annotations).containsEntry("prometheus.io/scrape", "true").containsEntry("prometheus.io/path", "/observe/metrics")
                    .containsEntry("prometheus.io/port", String.valueOf(management));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void everyEnvironmentVariableIsAConfigurationKeyOfItsComponent(int variant) {
        RenderedChart chart = render(VARIANTS.get(variant));

        for (String component : Repository.COMPONENTS) {
            Set<String> known = new java.util.HashSet<>(Set.of("JDK_JAVA_OPTIONS"));
            Repository.configKeys(component).forEach(key -> known.add(Repository.envName(key)));
            assertThat(chart.container(component).getEnv()).extracting(EnvVar::getName).as(component)
                    .doesNotHaveDuplicates().allMatch(known::contains, "a key " + component + " reads: " + known);
        }
    }

    @Test
    void configurationValuesBecomeEnvironmentVariablesWithExactNumbers() {
        RenderedChart chart = render(ALL_CONFIG);

        assertThat(env(chart.container("hub"), "HUB_WATCH_QUEUE")).contains("1048576");
        assertThat(env(chart.container("gateway"), "GATEWAY_LOGIN_LIMIT_PER_SECOND")).contains("0.5");
        assertThat(env(chart.container("gateway"), "GATEWAY_BALANCING")).contains("least-outstanding");
        assertThat(env(chart.container("user"), "USER_TOKEN_TTL")).contains("PT30M");
    }

    @Test
    void tracingIsOffByDefaultAndAnEndpointTurnsItOnInEveryComponentWithItsOwnNameAndTheSamplingRatio() {
        RenderedChart off = render("");
        RenderedChart on = render("tracing: {otlpEndpoint: 'http://otel-collector.observability:4318', samplingRatio: 0.25}");

        for (String component : Repository.COMPONENTS) {
            assertThat(off.container(component).getEnv()).as(component).noneMatch(e -> e.getName().startsWith("OTEL_"));
            Container container = on.container(component);
            assertThat(env(container, "OTEL_EXPORTER_OTLP_ENDPOINT")).as(component)
                    .contains("http://otel-collector.observability:4318");
            assertThat(env(container, "OTEL_SERVICE_NAME")).as(component).contains(component);
            assertThat(env(container, "OTEL_RESOURCE_ATTRIBUTES")).contains("service.namespace=" + RenderedChart.NAMESPACE);
            assertThat(env(container, "OTEL_TRACES_SAMPLER")).contains("parentbased_traceidratio");
            assertThat(env(container, "OTEL_TRACES_SAMPLER_ARG")).contains("0.25");
        }
    }

    @Test
    void theDocumentedKeysWithoutDefaultsAreReadByTheCode() {
        String sources = sources("user", "post", "comment", "runtime", "registry", "server");
        Repository.KEYS_WITHOUT_DEFAULTS.values().stream().flatMap(List::stream).distinct().forEach(key -> {
            List<String> suffixes = new ArrayList<>();
            String[] parts = key.split("\\.");
            for (int i = 0; i < parts.length; i++) {
                suffixes.add('"' + String.join(".", Arrays.copyOfRange(parts, i, parts.length)) + '"');
            }
            assertThat(suffixes).as(key).anyMatch(sources::contains);
        });
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void everyComponentFindsTheOthersThroughTheKeysItReads(int variant) {
        RenderedChart chart = render(VARIANTS.get(variant));
        int members = variant == 0 ? 1 : 3;

        List<String> etcd = IntStream.range(0, members)
                .mapToObj(i -> "https://" + name("etcd") + "-" + i + "." + name("etcd") + "-headless.apps.svc.cluster.local:2379").toList();
        assertThat(env(chart.container("hub"), "ETCD_ENDPOINTS").orElseThrow().split(",")).containsExactlyElementsOf(etcd);
        for (String component : List.of("gateway", "user", "post", "comment")) {
            assertThat(env(chart.container(component), "HUB_ENDPOINTS")).contains(name("hub") + ":8004");
        }
        Service hub = chart.get(Service.class, name("hub"));
        assertThat(hub.getSpec().getPorts()).anyMatch(p -> p.getPort() == 8004);
        for (String component : List.of("user", "post", "comment")) {
            List<EnvVar> env = chart.container(component).getEnv();
            assertThat(env).anyMatch(e -> e.getName().equals("REGISTRY_ADVERTISE_HOST")
                                          && e.getValueFrom().getFieldRef().getFieldPath().equals("status.podIP"));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 5})
    void etcdInitialClusterListsEveryMemberAndThePdbKeepsAQuorum(int members) {
        RenderedChart chart = render("etcd: {replicaCount: " + members + "}");

        StatefulSet etcd = chart.get(StatefulSet.class, name("etcd"));
        Service headless = chart.get(Service.class, name("etcd") + "-headless");
        assertThat(etcd.getSpec().getServiceName()).isEqualTo(headless.getMetadata().getName());
        assertThat(etcd.getSpec().getPodManagementPolicy()).isEqualTo("Parallel");
        assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
        assertThat(etcd.getSpec().getVolumeClaimTemplates()).extracting(c -> c.getMetadata().getName()).containsExactly("data");

        Container container = etcd.getSpec().getTemplate().getSpec().getContainers().getFirst();
        String domain = headless.getMetadata().getName() + ".apps.svc.cluster.local";
        List<String> expected = IntStream.range(0, members)
                .mapToObj(i -> name("etcd") + "-" + i + "=https://" + name("etcd") + "-" + i + "." + domain + ":2380").toList();
        assertThat(arg(container, "--initial-cluster").split(",")).containsExactlyElementsOf(expected);
        assertThat(arg(container, "--initial-advertise-peer-urls")).isEqualTo("https://$(POD_NAME)." + domain + ":2380");
        assertThat(arg(container, "--name")).isEqualTo("$(POD_NAME)");
        assertThat(container.getEnv()).anyMatch(e -> e.getName().equals("POD_NAME")
                                                      && e.getValueFrom().getFieldRef().getFieldPath().equals("metadata.name"));
        assertThat(arg(container, "--listen-client-urls")).isEqualTo("https://0.0.0.0:2379");
        // probes and Prometheus read a plaintext metrics port: the client port wants a client certificate
        assertThat(arg(container, "--listen-metrics-urls")).isEqualTo("http://0.0.0.0:2381");
        assertHttpProbe(container, container.getLivenessProbe().getHttpGet(), "/livez", 2381);
        assertHttpProbe(container, container.getReadinessProbe().getHttpGet(), "/readyz", 2381);
        assertHttpProbe(container, container.getStartupProbe().getHttpGet(), "/livez", 2381);

        var pdb = chart.find(PodDisruptionBudget.class, name("etcd"));
        if (members == 1) {
            assertThat(pdb).isEmpty();
        } else {
            assertThat(pdb.orElseThrow().getSpec().getMinAvailable().getIntVal()).isEqualTo(members / 2 + 1);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void servicesPdbsAndServiceMonitorsSelectThePodsTheyMeanTo(int variant) {
        RenderedChart chart = render(VARIANTS.get(variant));
        Map<String, PodTemplateSpec> pods = chart.podTemplates();

        for (Service service : chart.all(Service.class)) {
            String workload = service.getMetadata().getName().replaceFirst("-(headless|management)$", "");
            assertThat(matching(pods, service.getSpec().getSelector())).as(service.getMetadata().getName()).containsExactly(workload);
            List<ContainerPort> ports = pods.get(workload).getSpec().getContainers().getFirst().getPorts();
            service.getSpec().getPorts().forEach(port -> assertThat(ports).as(service.getMetadata().getName())
                    .anyMatch(p -> p.getName().equals(port.getTargetPort().getStrVal())));
        }
        for (PodDisruptionBudget pdb : chart.all(PodDisruptionBudget.class)) {
            LabelSelector selector = pdb.getSpec().getSelector();
            assertThat(selector.getMatchExpressions()).isNullOrEmpty();
            assertThat(matching(pods, selector.getMatchLabels())).containsExactly(pdb.getMetadata().getName());
        }
        for (Map<String, Object> monitor : chart.custom("ServiceMonitor")) {
            Map<?, ?> spec = (Map<?, ?>) monitor.get("spec");
            assertThat(spec.keySet().stream().map(String::valueOf).toList()).containsOnly("selector", "endpoints");
            @SuppressWarnings("unchecked")
            Map<String, String> labels = (Map<String, String>) ((Map<?, ?>) spec.get("selector")).get("matchLabels");
            List<Service> selected = chart.all(Service.class).stream()
                    .filter(s -> s.getMetadata().getLabels().entrySet().containsAll(labels.entrySet())).toList();
            assertThat(selected).isNotEmpty();
            for (Object endpoint : (List<?>) spec.get("endpoints")) {
                assertThat(((Map<?, ?>) endpoint).keySet().stream().map(String::valueOf).toList())
                        .containsAnyOf("port", "path", "interval").isSubsetOf("port", "path", "interval", "scheme", "tlsConfig");
                assertThat(((Map<?, ?>) endpoint).get("path")).isEqualTo("/observe/metrics");
                // the management port, on exactly one of the Services it selects (the gateway's public one has none)
                assertThat(((Map<?, ?>) endpoint).get("port")).isEqualTo("management");
                assertThat(selected).filteredOn(service -> service.getSpec().getPorts().stream()
                        .anyMatch(p -> p.getName().equals("management"))).hasSize(1);
            }
        }
        if (variant == 1) {
            assertThat(chart.custom("ServiceMonitor")).hasSize(5);
            assertThat(chart.all(PodDisruptionBudget.class)).extracting(p -> p.getMetadata().getName())
                    .containsExactlyInAnyOrder(name("etcd"), name("hub"), name("gateway"), name("user"), name("post"),
                                               name("comment"));
        }
    }

    /*
     * A JVM's heap is a share of the container's memory limit (MaxRAMPercentage), and the kernel kills the pod when
     * heap and everything beside it outgrow the limit. Beside the heap our components hold 125-155 MiB resident
     * under load (code, metaspace, threads, native libraries; bench/README.md): the defaults leave 192 MiB.
     */
    @Test
    void everyJvmLeavesRoomBesideItsHeapInsideItsMemoryLimit() {
        RenderedChart chart = render("");

        for (String component : Repository.COMPONENTS) {
            Container container = chart.container(component);
            String options = env(container, "JDK_JAVA_OPTIONS").orElseThrow();
            Matcher percentage = Pattern.compile("-XX:MaxRAMPercentage=([0-9.]+)").matcher(options);
            assertThat(percentage.find()).as(component + " sizes its heap from the limit: " + options).isTrue();
            Quantity memory = container.getResources().getLimits().get("memory");
            long limit = Quantity.getAmountInBytes(memory).longValueExact();
            long heap = (long) (limit * Double.parseDouble(percentage.group(1)) / 100);
            assertThat(limit - heap).as(component + ": memory limit minus maximum heap")
                    .isGreaterThanOrEqualTo(192L << 20);
            assertThat(container.getResources().getRequests().get("memory")).as(component + ": requests what it may use")
                    .isEqualTo(memory);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void everyPodRunsLockedDown(int variant) {
        RenderedChart chart = render(VARIANTS.get(variant));
        // helm-java's template leaves hooks out, so the `helm test` pod is not among them
        List<PodSpec> specs = chart.podTemplates().values().stream().map(PodTemplateSpec::getSpec).toList();

        assertThat(specs).hasSize(6);
        for (PodSpec spec : specs) {
            assertThat(spec.getSecurityContext().getRunAsNonRoot()).isTrue();
            assertThat(spec.getSecurityContext().getRunAsUser()).isPositive();
            assertThat(spec.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
            assertThat(spec.getAutomountServiceAccountToken()).isFalse();
            for (Container container : spec.getContainers()) {
                var security = container.getSecurityContext();
                assertThat(security.getReadOnlyRootFilesystem()).as(container.getName()).isTrue();
                assertThat(security.getAllowPrivilegeEscalation()).isFalse();
                assertThat(security.getCapabilities().getDrop()).containsExactly("ALL");
                assertThat(security.getCapabilities().getAdd()).isNullOrEmpty();
                assertThat(security.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
                assertThat(container.getResources().getLimits()).containsKey("memory");
                assertThat(mountedFrom(spec, container, "/tmp")).as(container.getName() + " /tmp")
                        .matches(v -> v.getEmptyDir() != null);
            }
        }
    }

    @Test
    void businessServicesKeepTheirDatabaseOnAVolumeByDefault() {
        RenderedChart chart = render("");

        for (String component : List.of("user", "post", "comment")) {
            Deployment deployment = chart.get(Deployment.class, name(component));
            Container container = chart.container(component);
            assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
            assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("Recreate");
            assertThat(env(container, "DATA_DIR")).contains("/data");
            assertThat(env(container, "DB_URL")).isEmpty();
            Volume data = mountedFrom(deployment.getSpec().getTemplate().getSpec(), container, "/data");
            PersistentVolumeClaim claim = chart.get(PersistentVolumeClaim.class, data.getPersistentVolumeClaim().getClaimName());
            assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
        }
    }

    @Test
    void externalPostgresReplacesTheVolumeAndAllowsReplicas() {
        RenderedChart chart = render(QUORUM_AND_POSTGRES);

        assertThat(chart.all(PersistentVolumeClaim.class)).isEmpty();
        for (String component : List.of("user", "post", "comment")) {
            Deployment deployment = chart.get(Deployment.class, name(component));
            Container container = chart.container(component);
            assertThat(deployment.getSpec().getStrategy()).isNull();
            assertThat(env(container, "DB_URL")).contains("jdbc:postgresql://pg:5432/" + component);
            for (String variable : List.of("DB_USER", "DB_PASSWORD")) {
                EnvVar credential = container.getEnv().stream().filter(e -> e.getName().equals(variable)).findFirst().orElseThrow();
                assertThat(credential.getValueFrom().getSecretKeyRef().getName()).isEqualTo(component + "-db");
            }
        }
    }

    @Test
    void userSigningKeyIsAGeneratedPemSecretUnlessOneIsGiven() {
        RenderedChart chart = render("");
        Secret generated = chart.get(Secret.class, name("user") + "-signing-key");
        String pem = new String(java.util.Base64.getDecoder().decode(generated.getData().get("signing-key.pem")));
        assertThat(pem).startsWith("-----BEGIN EC PRIVATE KEY-----");
        assertSigningKeyFile(chart, generated.getMetadata().getName());

        RenderedChart given = render("user: {signingKey: {existingSecret: my-key, key: jwk.json}}");
        assertThat(given.all(Secret.class)).isEmpty();
        assertSigningKeyFile(given, "my-key");
    }

    /*
     * Argo CD and `helm template` render without lookup: with the chart's own key every render is another key, so
     * a GitOps sync would replace it; with an existing Secret every render is the same.
     */
    @Test
    void anExistingSigningKeySecretMakesEveryRenderTheSame() {
        String generated = "";
        assertThat(render(generated).get(Secret.class, name("user") + "-signing-key").getData())
                .isNotEqualTo(render(generated).get(Secret.class, name("user") + "-signing-key").getData());

        String existing = "user: {signingKey: {existingSecret: my-key}}";
        assertThat(render(existing).objects).isEqualTo(render(existing).objects);
        assertThat(render(existing).all(Secret.class)).isEmpty();
    }

    @Test
    void gatewayIngressIsOptionalAndRoutesToTheGatewayService() {
        RenderedChart chart = render("gateway: {ingress: {enabled: true, hosts: [{host: sb.example.org, paths: [{path: /, pathType: Prefix}]}]}}");

        Ingress ingress = chart.get(Ingress.class, name("gateway"));
        assertThat(chart.all(Ingress.class)).hasSize(1);
        var backend = ingress.getSpec().getRules().getFirst().getHttp().getPaths().getFirst().getBackend().getService();
        Service service = chart.get(Service.class, backend.getName());
        assertThat(service.getSpec().getPorts()).anyMatch(p -> p.getName().equals(backend.getPort().getName()));
        assertThat(service.getSpec().getSelector()).containsEntry("app.kubernetes.io/component", "gateway");
    }

    @Test
    void externalEtcdReplacesTheStatefulSet() {
        RenderedChart chart = render("etcd: {enabled: false, external: {endpoints: ['http://etcd-a:2379', 'http://etcd-b:2379']}}");

        assertThat(chart.all(StatefulSet.class)).isEmpty();
        assertThat(chart.all(Service.class)).noneMatch(s -> s.getMetadata().getName().contains("etcd"));
        assertThat(env(chart.container("hub"), "ETCD_ENDPOINTS")).contains("http://etcd-a:2379,http://etcd-b:2379");
    }

    @Test
    void podsOutliveTheirPreStopPauseAndShutdownGrace() {
        RenderedChart chart = render("");

        for (String component : Repository.COMPONENTS) {
            PodSpec spec = chart.get(Deployment.class, name(component)).getSpec().getTemplate().getSpec();
            long pause = spec.getContainers().getFirst().getLifecycle().getPreStop().getSleep().getSeconds();
            long shutdownGrace = java.time.Duration.parse((String) ((Map<?, ?>) Repository.applicationYaml(component).get("server"))
                    .get("shutdown-grace-period")).toSeconds();
            assertThat(pause).isPositive();
            assertThat(spec.getTerminationGracePeriodSeconds()).as(component).isGreaterThan(pause + shutdownGrace + 5);
        }
    }

    private static void assertSigningKeyFile(RenderedChart chart, String secret) {
        Container user = chart.container("user");
        PodSpec spec = chart.get(Deployment.class, name("user")).getSpec().getTemplate().getSpec();
        String file = env(user, "USER_SIGNING_KEY_FILE").orElseThrow();
        String directory = file.substring(0, file.lastIndexOf('/'));
        Volume volume = mountedFrom(spec, user, directory);
        assertThat(volume.getSecret().getSecretName()).isEqualTo(secret);
        assertThat(volume.getSecret().getItems()).anyMatch(i -> file.endsWith("/" + i.getPath()));
    }

    private static Volume mountedFrom(PodSpec spec, Container container, String path) {
        String volume = container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError(container.getName() + " mounts nothing at " + path)).getName();
        return spec.getVolumes().stream().filter(v -> v.getName().equals(volume)).findFirst().orElseThrow();
    }

    private static List<String> matching(Map<String, PodTemplateSpec> pods, Map<String, String> selector) {
        assertThat(selector).isNotEmpty();
        Predicate<PodTemplateSpec> selected = pod -> pod.getMetadata().getLabels().entrySet().containsAll(selector.entrySet());
        return pods.entrySet().stream().filter(e -> selected.test(e.getValue())).map(Map.Entry::getKey).toList();
    }

    private static void assertHttpProbe(Container container, HTTPGetAction probe, String path, int port) {
        assertThat(probe.getPath()).as(container.getName()).isEqualTo(path);
        int probed = probe.getPort().getIntVal() != null ? probe.getPort().getIntVal()
                : container.getPorts().stream().filter(p -> p.getName().equals(probe.getPort().getStrVal())).findFirst()
                        .orElseThrow(() -> new AssertionError(container.getName() + " has no port " + probe.getPort())).getContainerPort();
        assertThat(probed).as(container.getName() + " " + path).isEqualTo(port);
    }

    private static String arg(Container container, String flag) {
        return container.getArgs().stream().filter(a -> a.startsWith(flag + "=")).findFirst()
                .orElseThrow(() -> new AssertionError("no " + flag)).substring(flag.length() + 1);
    }

    private static String sources(String... modules) {
        StringBuilder all = new StringBuilder();
        for (String module : modules) {
            try (var files = java.nio.file.Files.walk(Repository.ROOT.resolve("modules/" + module + "/src/main/java"))) {
                files.filter(f -> f.toString().endsWith(".java")).forEach(f -> all.append(Repository.read(f)));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return all.toString();
    }
}
