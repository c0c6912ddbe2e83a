package io.switchboard.registry.impl;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.grpc.LoadBalancerRegistry;
import io.grpc.NameResolver;
import io.grpc.internal.AutoConfiguredLoadBalancerFactory;
import io.grpc.internal.ScParser;
import io.grpc.util.OutlierDetectionLoadBalancer.OutlierDetectionLoadBalancerConfig;
import io.switchboard.registry.Balancing;
import io.switchboard.registry.CallPolicy;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The service configs the library gives its channels, read back by grpc-java's own parsers.
 */
class ServiceConfigsUnitTest {
    private static final String GET = "switchboard.post.v1.PostService/GetPost";
    private static final String CREATE = "switchboard.post.v1.PostService/CreatePost";

    static {
        LeastOutstandingLoadBalancer.register();
    }

    @Test
    void idempotentMethodsAreHedgedWithinABudgetAndNoOtherMethodIs() {
        Map<String, ?> config = ServiceConfigs.of(Balancing.LEAST_OUTSTANDING, Set.of(GET), CallPolicy.DEFAULT);

        String parsed = parse(config).toString();
        assertThat(parsed).contains("hedgingPolicy=HedgingPolicy{maxAttempts=2, hedgingDelayNanos=300000000, "
                                    + "nonFatalStatusCodes=[CANCELLED, INTERNAL, UNAVAILABLE]}")
                .contains(GET).doesNotContain(CREATE).doesNotContain("retryPolicy=RetryPolicy");
        assertThat(config.get("retryThrottling")).isEqualTo(Map.of("maxTokens", 10.0, "tokenRatio", 0.2));
        @SuppressWarnings("unchecked")
        List<Map<String, ?>> methods = (List<Map<String, ?>>) config.get("methodConfig");
        assertThat(methods).hasSize(1);
        assertThat(methods.get(0).get("name")).isEqualTo(List.of(Map.of("service", "switchboard.post.v1.PostService",
                                                                        "method", "GetPost")));
    }

    @Test
    void withoutHedgingIdempotentMethodsAreRetriedOnceWhenADyingInstanceCutThem() {
        Map<String, ?> config = ServiceConfigs.of(Balancing.ROUND_ROBIN, Set.of(GET),
                                                  CallPolicy.DEFAULT.withHedgingDelay(Duration.ZERO));

        assertThat(parse(config).toString()).contains("retryPolicy=RetryPolicy{maxAttempts=2")
                .contains("retryableStatusCodes=[CANCELLED, INTERNAL, UNAVAILABLE]")
                .doesNotContain("hedgingPolicy=HedgingPolicy");
    }

    @Test
    void aChannelWithNoIdempotentMethodHasNoMethodConfigAndNoBudget() {
        Map<String, ?> config = ServiceConfigs.of(Balancing.LEAST_OUTSTANDING, Set.of(), CallPolicy.DEFAULT);

        parse(config);
        assertThat(config).containsOnlyKeys("loadBalancingConfig");
    }

    @Test
    void outlierDetectionWrapsTheBalancingPolicyAndEjectsAtMostHalf() {
        Map<String, ?> config = ServiceConfigs.of(Balancing.LEAST_OUTSTANDING, Set.of(GET), CallPolicy.DEFAULT);
        @SuppressWarnings("unchecked")
        Map<String, ?> balancing = ((List<Map<String, ?>>) config.get("loadBalancingConfig")).get(0);
        assertThat(balancing).containsOnlyKeys(ServiceConfigs.OUTLIER_DETECTION);

        NameResolver.ConfigOrError parsed = LoadBalancerRegistry.getDefaultRegistry()
                .getProvider(ServiceConfigs.OUTLIER_DETECTION)
                .parseLoadBalancingPolicyConfig((Map<String, ?>) balancing.get(ServiceConfigs.OUTLIER_DETECTION));
        assertThat(parsed.getError()).isNull();
        OutlierDetectionLoadBalancerConfig outliers = (OutlierDetectionLoadBalancerConfig) parsed.getConfig();
        assertThat(outliers.maxEjectionPercent).isEqualTo(50);
        assertThat(outliers.intervalNanos).isEqualTo(Duration.ofSeconds(1).toNanos());
        assertThat(outliers.baseEjectionTimeNanos).isEqualTo(Duration.ofSeconds(5).toNanos());
        assertThat(outliers.successRateEjection).isNull();
        assertThat(outliers.failurePercentageEjection.threshold).isEqualTo(50);
        assertThat(outliers.failurePercentageEjection.minimumHosts).isEqualTo(2);
        assertThat(outliers.failurePercentageEjection.requestVolume).isEqualTo(10);
        assertThat(outliers.childConfig.toString()).contains("switchboard_least_outstanding");
    }

    @Test
    void noEjectionLeavesTheBalancingPolicyAlone() {
        CallPolicy policy = new CallPolicy(Duration.ofMillis(300), 2, 10, 0.2, Duration.ZERO, Duration.ofSeconds(5),
                                           50, 10, 50);
        Map<String, ?> config = ServiceConfigs.of(Balancing.ROUND_ROBIN, Set.of(GET), policy);

        parse(config);
        assertThat(config.get("loadBalancingConfig")).isEqualTo(List.of(Map.of("round_robin", Map.of())));
    }

    /* grpc-java's channel parser, as a channel given this default service config runs it; fails on an error. */
    private static Object parse(Map<String, ?> config) {
        NameResolver.ConfigOrError parsed = new ScParser(true, 5, 5, new AutoConfiguredLoadBalancerFactory("pick_first"))
                .parseServiceConfig(config);
        assertThat(parsed.getError()).as("grpc-java's parse error").isNull();
        return parsed.getConfig();
    }
}
