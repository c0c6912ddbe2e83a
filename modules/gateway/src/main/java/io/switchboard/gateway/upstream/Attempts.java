package io.switchboard.gateway.upstream;

import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.ClientStreamTracer;
import io.grpc.Metadata;

/**
 * What one upstream call took: the instance that answered (or failed) last, and how many attempts beyond the first
 * it sent, as grpc-java's hedges or retries or as the gateway's own retry after headers. Attempts that never left
 * the gateway (grpc-java's transparent retries) do not count. Thread safe: attempts run on transport threads.
 */
public final class Attempts {
    private static final ClientStreamTracer NOTHING = new ClientStreamTracer() {
    };

    private final AtomicInteger extra = new AtomicInteger();
    private volatile SocketAddress peer;
    private volatile boolean gatewayRetry;
    private volatile boolean headers;

    /** Counts the channel's attempts of the call; installed on the call's options. */
    final ClientStreamTracer.Factory tracer = new ClientStreamTracer.Factory() {
        @Override
        public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
            if (info.getPreviousAttempts() > 0 && !info.isTransparentRetry()) {
                extra.incrementAndGet();
            }
            return NOTHING;
        }
    };

    /**
     * The remote address of the last attempt's instance.
     *
     * @return the address, or null when no attempt reached an instance
     */
    public SocketAddress peer() {
        return peer;
    }

    /**
     * Attempts sent beyond the first (hedges, retries, the gateway's retry).
     *
     * @return 0 for a call answered by its first attempt
     */
    public int extra() {
        return extra.get() + (gatewayRetry ? 1 : 0);
    }

    /**
     * Whether the gateway itself retried the call after its first instance cut it after the headers.
     *
     * @return true when it did
     */
    public boolean gatewayRetry() {
        return gatewayRetry;
    }

    /**
     * Whether an answer's headers arrived from an instance (for a failed call: the instance began to answer).
     *
     * @return true when they did
     */
    public boolean headersArrived() {
        return headers;
    }

    void headers() {
        headers = true;
    }

    void peer(SocketAddress address) {
        peer = address;
    }

    void gatewayRetried() {
        gatewayRetry = true;
    }
}
