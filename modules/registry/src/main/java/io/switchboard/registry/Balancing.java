package io.switchboard.registry;

/**
 * How calls are spread over a service's live instances. Both skip an instance whose connection is refused until
 * it connects again.
 */
public enum Balancing {
    /** Each call to the next ready instance in turn (grpc-java's {@code round_robin}). */
    ROUND_ROBIN("round_robin"),
    /** Each call to the ready instance with fewer calls in flight, of two picked at random. */
    LEAST_OUTSTANDING("switchboard_least_outstanding");

    private final String policy;

    Balancing(String policy) {
        this.policy = policy;
    }

    /**
     * The grpc-java load-balancing policy name.
     *
     * @return policy name
     */
    public String policy() {
        return policy;
    }
}
