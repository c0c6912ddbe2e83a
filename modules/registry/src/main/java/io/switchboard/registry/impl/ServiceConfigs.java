package io.switchboard.registry.impl;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.switchboard.registry.Balancing;
import io.switchboard.registry.CallPolicy;
import io.switchboard.registry.Discovery;

/**
 * grpc-java service configs for the channels of {@link WatchingDiscovery}, as the parsed-JSON maps grpc-java expects
 * (numbers as Double, durations as {@code "0.300000000s"}).
 */
final class ServiceConfigs {
    /** grpc-java's outlier detection policy (grpc-util's OutlierDetectionLoadBalancerProvider). */
    static final String OUTLIER_DETECTION = "outlier_detection_experimental";

    private ServiceConfigs() {
    }

    /**
     * The service config of a channel.
     *
     * @param balancing  the balancing policy, wrapped in outlier detection when the policy ejects
     * @param idempotent gRPC services or methods that may be sent twice: they alone are hedged or retried
     * @param policy     call policy
     * @return the service config
     */
    static Map<String, ?> of(Balancing balancing, Set<String> idempotent, CallPolicy policy) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("loadBalancingConfig", List.of(balancingConfig(balancing, policy)));
        if (!idempotent.isEmpty()) {
            config.put("methodConfig", List.of(Map.of("name", names(idempotent),
                                                      policy.hedging() ? "hedgingPolicy" : "retryPolicy",
                                                      policy.hedging() ? hedging(policy) : retry())));
            config.put("retryThrottling", Map.of("maxTokens", (double) policy.budgetTokens(),
                                                 "tokenRatio", policy.budgetRatio()));
        }
        return config;
    }

    private static Map<String, ?> balancingConfig(Balancing balancing, CallPolicy policy) {
        Map<String, ?> child = Map.of(balancing.policy(), Map.of());
        if (!policy.ejection()) {
            return child;
        }
        // failure percentage, not success rate: success-rate ejection needs 5 instances or more to judge
        Map<String, ?> failures = Map.of("threshold", (double) policy.ejectionFailurePercent(),
                                         "enforcementPercentage", 100.0,
                                         "minimumHosts", 2.0,
                                         "requestVolume", (double) policy.ejectionRequestVolume());
        return Map.of(OUTLIER_DETECTION, Map.of("interval", duration(policy.ejectionInterval()),
                                                "baseEjectionTime", duration(policy.baseEjectionTime()),
                                                "maxEjectionTime", duration(policy.baseEjectionTime().multipliedBy(10)),
                                                "maxEjectionPercentage", (double) policy.maxEjectionPercent(),
                                                "failurePercentageEjection", failures,
                                                "childPolicy", List.of(child)));
    }

    /*
     * The first answer wins. An attempt cut by a dying instance (non-fatal) sends the next one at once instead of
     * waiting for the delay; any other status ends the call.
     */
    private static Map<String, ?> hedging(CallPolicy policy) {
        return Map.of("maxAttempts", (double) policy.maxAttempts(),
                      "hedgingDelay", duration(policy.hedgingDelay()),
                      "nonFatalStatusCodes", codes());
    }

    /* One more attempt, almost at once, when the call's instance went away: the balancer then skips that instance. */
    private static Map<String, ?> retry() {
        return Map.of("maxAttempts", 2.0,
                      "initialBackoff", "0.005s",
                      "maxBackoff", "0.05s",
                      "backoffMultiplier", 2.0,
                      "retryableStatusCodes", codes());
    }

    private static List<String> codes() {
        return Discovery.CUT_BY_A_DYING_INSTANCE.stream().map(Enum::name).sorted().toList();
    }

    private static List<Map<String, ?>> names(Set<String> names) {
        List<Map<String, ?>> targets = new ArrayList<>();
        for (String name : names.stream().sorted().toList()) {
            int slash = name.indexOf('/');
            targets.add(slash < 0 ? Map.of("service", name)
                                  : Map.of("service", name.substring(0, slash), "method", name.substring(slash + 1)));
        }
        return targets;
    }

    private static String duration(Duration duration) {
        return String.format(Locale.ROOT, "%d.%09ds", duration.getSeconds(), duration.getNano());
    }
}
