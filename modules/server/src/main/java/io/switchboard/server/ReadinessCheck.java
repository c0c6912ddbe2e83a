package io.switchboard.server;

import java.util.function.Supplier;

import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;

/**
 * A component's readiness check, named by what it follows (etcd, a lease, discovery): the one check behind
 * {@code /observe/health/ready} of a server made by {@link Servers#builder(io.helidon.config.Config, ReadinessCheck)}.
 */
public abstract class ReadinessCheck implements HealthCheck {
    private final String name;

    /**
     * A check with a name.
     *
     * @param name its name in the health answer
     */
    protected ReadinessCheck(String name) {
        this.name = name;
    }

    /**
     * A check from a function, for tests and small servers.
     *
     * @param name  its name in the health answer
     * @param check computes the answer; must not block for long
     * @return the check
     */
    public static ReadinessCheck of(String name, Supplier<HealthCheckResponse> check) {
        return new ReadinessCheck(name) {
            @Override
            public HealthCheckResponse call() {
                return check.get();
            }
        };
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final HealthCheckType type() {
        return HealthCheckType.READINESS;
    }
}
