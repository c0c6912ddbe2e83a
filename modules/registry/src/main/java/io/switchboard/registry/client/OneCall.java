package io.switchboard.registry.client;

import io.grpc.CallOptions;
import io.switchboard.registry.Balancing;
import io.switchboard.registry.Discovery;
import io.switchboard.registry.impl.TriedInstances;

/**
 * Makes several calls on a channel from {@link Discovery#channel} one logical call for balancing: each call made
 * with {@link #on(CallOptions)} avoids the instances the earlier ones' attempts went to, while another is ready. For
 * a caller's own retry of a call that its instance cut or stalled after the answer's headers, which grpc-java's
 * hedges and retries no longer cover. Balancing with {@link Balancing#LEAST_OUTSTANDING} honours it. Thread safe.
 */
public final class OneCall {
    private final TriedInstances tried = new TriedInstances();

    /**
     * The options of one of the calls.
     *
     * @param options the call's options
     * @return them, sharing this call's record of instances
     */
    public CallOptions on(CallOptions options) {
        return options.withOption(TriedInstances.KEY, tried);
    }
}
