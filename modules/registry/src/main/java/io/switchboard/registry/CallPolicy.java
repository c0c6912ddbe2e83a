package io.switchboard.registry;

import java.time.Duration;

import io.helidon.config.Config;

/**
 * How a channel from {@link Discovery#channel(String, Balancing, java.util.Set, CallPolicy)} routes around frozen,
 * slow and failing instances, all through grpc-java's own service config:
 * <ul>
 *     <li><b>hedging</b> of the calls named idempotent: when no answer came within {@code hedgingDelay}, the same call
 *     goes to another instance too, and the first answer wins (the other attempt is cancelled); at most
 *     {@code maxAttempts} attempts per call. A call that a dying instance cut (see
 *     {@link Discovery#CUT_BY_A_DYING_INSTANCE}) sends its next attempt at once. A zero delay turns hedging off:
 *     idempotent calls then get one retry on those codes only, as before hedging existed;</li>
 *     <li><b>a retry budget</b> (grpc-java's {@code retryThrottling}): the channel holds {@code budgetTokens} tokens;
 *     each attempt that fails with one of those codes takes one, each successful call gives back
 *     {@code budgetRatio}, and no hedge or retry starts while half or fewer are left. In a steady state, failed
 *     attempts may be about {@code budgetRatio} times the successful calls before hedges and retries stop;</li>
 *     <li><b>outlier ejection</b> (grpc-java's {@code outlier_detection_experimental} around the balancing policy):
 *     every {@code ejectionInterval}, an instance whose calls failed in at least {@code ejectionFailurePercent} %
 *     of {@code ejectionRequestVolume} or more calls gets no calls for {@code baseEjectionTime} (longer each time
 *     in a row); never more than {@code maxEjectionPercent} % of the instances at once.</li>
 * </ul>
 *
 * @param hedgingDelay          how long an idempotent call waits for an answer before it is sent to another instance
 *                              too; zero for no hedging
 * @param maxAttempts           attempts per idempotent call, 2..5 (grpc-java caps at 5)
 * @param budgetTokens          the retry budget's size, in failed attempts
 * @param budgetRatio           what a successful call gives back to the budget, 0..1
 * @param ejectionInterval      how often outliers are looked for; zero for no outlier ejection
 * @param baseEjectionTime      how long an ejection lasts the first time
 * @param ejectionFailurePercent failure percentage at which an instance is ejected
 * @param ejectionRequestVolume calls an instance must have had in an interval to be judged
 * @param maxEjectionPercent    most instances ejected at once, in percent of the service's
 */
public record CallPolicy(Duration hedgingDelay,
                         int maxAttempts,
                         int budgetTokens,
                         double budgetRatio,
                         Duration ejectionInterval,
                         Duration baseEjectionTime,
                         int ejectionFailurePercent,
                         int ejectionRequestVolume,
                         int maxEjectionPercent) {
    /**
     * The defaults: hedge after 300 ms, 2 attempts, a budget of 10 tokens at 0.2, outliers looked for every second
     * at 50 % failures of 10 calls or more, ejected for 5 s at first, half of the instances at most.
     */
    public static final CallPolicy DEFAULT = new CallPolicy(Duration.ofMillis(300), 2, 10, 0.2, Duration.ofSeconds(1),
                                                            Duration.ofSeconds(5), 50, 10, 50);

    /**
     * Checks the values.
     */
    public CallPolicy {
        if (hedgingDelay.isNegative() || ejectionInterval.isNegative() || !baseEjectionTime.isPositive()) {
            throw new IllegalArgumentException("negative or zero durations in " + this);
        }
        if (maxAttempts < 2 || maxAttempts > 5 || budgetTokens < 1 || budgetTokens > 1000
            || !(budgetRatio > 0 && budgetRatio <= 1) || ejectionFailurePercent < 0 || ejectionFailurePercent > 100
            || ejectionRequestVolume < 1 || maxEjectionPercent < 0 || maxEjectionPercent > 100) {
            throw new IllegalArgumentException("call policy out of range: " + this);
        }
    }

    /**
     * A policy from a configuration node, each key defaulting to {@link #DEFAULT}: {@code hedging-delay},
     * {@code max-attempts}, {@code retry-budget.tokens}, {@code retry-budget.ratio},
     * {@code ejection.interval}, {@code ejection.base-time}, {@code ejection.failure-percent},
     * {@code ejection.request-volume}, {@code ejection.max-percent}. Durations in ISO-8601 ({@code PT0.3S}).
     *
     * @param node the node, such as {@code gateway.upstream}
     * @return the policy
     * @throws IllegalArgumentException when a value is out of range
     */
    public static CallPolicy from(Config node) {
        CallPolicy d = DEFAULT;
        return new CallPolicy(node.get("hedging-delay").as(Duration.class).orElse(d.hedgingDelay),
                              node.get("max-attempts").asInt().orElse(d.maxAttempts),
                              node.get("retry-budget.tokens").asInt().orElse(d.budgetTokens),
                              node.get("retry-budget.ratio").asDouble().orElse(d.budgetRatio),
                              node.get("ejection.interval").as(Duration.class).orElse(d.ejectionInterval),
                              node.get("ejection.base-time").as(Duration.class).orElse(d.baseEjectionTime),
                              node.get("ejection.failure-percent").asInt().orElse(d.ejectionFailurePercent),
                              node.get("ejection.request-volume").asInt().orElse(d.ejectionRequestVolume),
                              node.get("ejection.max-percent").asInt().orElse(d.maxEjectionPercent));
    }

    /**
     * This policy with another hedging delay.
     *
     * @param delay the delay; zero for no hedging
     * @return the new policy
     */
    public CallPolicy withHedgingDelay(Duration delay) {
        return new CallPolicy(delay, maxAttempts, budgetTokens, budgetRatio, ejectionInterval, baseEjectionTime,
                              ejectionFailurePercent, ejectionRequestVolume, maxEjectionPercent);
    }

    /**
     * Whether idempotent calls are hedged.
     *
     * @return true for a positive hedging delay
     */
    public boolean hedging() {
        return hedgingDelay.isPositive();
    }

    /**
     * Whether outliers are ejected.
     *
     * @return true for a positive ejection interval
     */
    public boolean ejection() {
        return ejectionInterval.isPositive();
    }
}
