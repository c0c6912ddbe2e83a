package io.switchboard.hub.etcd;

import java.lang.System.Logger.Level;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLException;

import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.switchboard.identity.WorkloadTls;

/**
 * Renews etcd leases over one long-lived {@code Lease/LeaseKeepAlive} stream, one request per lease and only when
 * asked.
 * <p>
 * jetcd offers either one stream per renewal ({@code keepAliveOnce}) or a multiplexed stream that keeps renewing by
 * itself ({@code keepAlive}) and never resumes after an etcd outage. Neither fits a hub that must renew a lease
 * exactly when its client asks (a dead client's lease must expire) for thousands of leases: this class talks to
 * etcd's lease service directly through grpc-java and the stubs jetcd ships. etcd answers each request on the
 * stream with the lease id and its new TTL (0 for a lease it does not know), in order, so answers are matched to
 * callers by lease id, first come first served.
 * <p>
 * When the stream breaks, every renewal waiting on it fails and the next call opens a new stream on the next
 * endpoint. A renewal not answered within the timeout fails and restarts the stream, so a stalled etcd connection
 * is never trusted again. Thread safe.
 */
final class LeaseStream implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LeaseStream.class.getName());

    private final List<ManagedChannel> channels;
    private final long timeoutMillis;
    private final Object lock = new Object();
    private final Map<Long, ArrayDeque<CompletableFuture<Long>>> pending = new HashMap<>();
    private ClientCallStreamObserver<LeaseKeepAliveRequest> requests;
    private long generation;
    private int endpoint;
    private boolean closed;
    private boolean broken;

    LeaseStream(List<URI> endpoints, WorkloadTls tls, long timeoutMillis) {
        this.channels = endpoints.stream()
                .map(uri -> (ManagedChannel) secured(NettyChannelBuilder.forAddress(uri.getHost(), uri.getPort()), tls)
                        .keepAliveTime(10, TimeUnit.SECONDS)
                        .keepAliveTimeout(3, TimeUnit.SECONDS)
                        .build())
                .toList();
        this.timeoutMillis = timeoutMillis;
    }

    /* Mutual TLS with the hub's identity when etcd's endpoints are https, as the store's jetcd client. */
    private static NettyChannelBuilder secured(NettyChannelBuilder builder, WorkloadTls tls) {
        if (tls == null) {
            return builder.usePlaintext();
        }
        try {
            return builder.sslContext(GrpcSslContexts.forClient().keyManager(tls.keyManager())
                                              .trustManager(tls.trustManager("etcd")).build());
        } catch (SSLException e) {
            throw new IllegalStateException("cannot set up TLS to etcd: " + e.getMessage(), e);
        }
    }

    /**
     * Renews each lease once, all requests sent on the shared stream at once.
     *
     * @param leaseIds leases, distinct
     * @return per lease, in the given order, a future of the TTL it was renewed to (0 when etcd does not know it);
     *         it fails with UNAVAILABLE when the stream breaks or etcd does not answer in time
     */
    Map<Long, CompletableFuture<Long>> renew(Collection<Long> leaseIds) {
        Map<Long, CompletableFuture<Long>> calls = new LinkedHashMap<>();
        List<CompletableFuture<Long>> failed = new ArrayList<>();
        long current;
        synchronized (lock) {
            ClientCallStreamObserver<LeaseKeepAliveRequest> stream = closed ? null : open();
            current = generation;
            for (long id : leaseIds) {
                CompletableFuture<Long> call = new CompletableFuture<>();
                calls.put(id, call);
                if (stream == null) {
                    failed.add(call);
                    continue;
                }
                pending.computeIfAbsent(id, k -> new ArrayDeque<>()).add(call);
                try {
                    stream.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
                } catch (RuntimeException e) {
                    // the call was closed under us: the failure handler fails what is pending
                    stream = null;
                }
            }
        }
        failed.forEach(call -> call.completeExceptionally(unavailable("the lease stream is closed")));
        calls.values().forEach(call -> call.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
                .whenComplete((ttl, error) -> {
                    if (error instanceof java.util.concurrent.TimeoutException) {
                        abort(current, "etcd did not answer a lease renewal within " + timeoutMillis + " ms");
                    }
                }));
        return calls;
    }

    /**
     * Drops the current stream (for example after the etcd client reconnected) and retries connecting at once.
     */
    void reset() {
        abort(currentGeneration(), "reconnecting to etcd");
        channels.forEach(ManagedChannel::resetConnectBackoff);
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
        }
        abort(currentGeneration(), "hub shutting down");
        channels.forEach(ManagedChannel::shutdownNow);
    }

    private long currentGeneration() {
        synchronized (lock) {
            return generation;
        }
    }

    /* Under the lock. */
    private ClientCallStreamObserver<LeaseKeepAliveRequest> open() {
        if (requests != null) {
            return requests;
        }
        long opened = ++generation;
        ManagedChannel channel = channels.get(endpoint);
        LeaseGrpc.newStub(channel).leaseKeepAlive(new ClientResponseObserver<LeaseKeepAliveRequest, LeaseKeepAliveResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<LeaseKeepAliveRequest> stream) {
                requests = stream;
            }

            @Override
            public void onNext(LeaseKeepAliveResponse response) {
                answered(opened, response);
            }

            @Override
            public void onError(Throwable error) {
                failed(opened, Status.fromThrowable(error));
            }

            @Override
            public void onCompleted() {
                failed(opened, Status.UNAVAILABLE.withDescription("etcd ended the lease stream"));
            }
        });
        return requests;
    }

    private void answered(long from, LeaseKeepAliveResponse response) {
        CompletableFuture<Long> call = null;
        synchronized (lock) {
            if (from != generation) {
                return;
            }
            if (broken) {
                // logged at the first answer, not at every attempt to open a stream while etcd is away
                broken = false;
                LOG.log(Level.INFO, "lease stream to etcd works again");
            }
            ArrayDeque<CompletableFuture<Long>> waiting = pending.get(response.getID());
            if (waiting != null) {
                call = waiting.poll();
                if (waiting.isEmpty()) {
                    pending.remove(response.getID());
                }
            }
        }
        if (call != null) {
            call.complete(Math.max(response.getTTL(), 0));
        }
    }

    private void abort(long from, String reason) {
        ClientCallStreamObserver<LeaseKeepAliveRequest> stream;
        synchronized (lock) {
            stream = from == generation ? requests : null;
        }
        if (stream != null) {
            // cancel() reports back through onError, which fails what is pending
            stream.cancel(reason, null);
            failed(from, Status.UNAVAILABLE.withDescription(reason));
        }
    }

    private void failed(long from, Status status) {
        List<CompletableFuture<Long>> waiting = new ArrayList<>();
        synchronized (lock) {
            if (from != generation || requests == null) {
                return;
            }
            requests = null;
            pending.values().forEach(waiting::addAll);
            pending.clear();
            endpoint = (endpoint + 1) % channels.size();
            if (!broken && !closed) {
                broken = true;
                LOG.log(Level.WARNING, "lease stream to etcd broken (" + status.getCode()
                                       + (status.getDescription() == null ? "" : ": " + status.getDescription())
                                       + "); the next renewal opens a new one");
            }
        }
        channels.forEach(ManagedChannel::resetConnectBackoff);
        waiting.forEach(call -> call.completeExceptionally(unavailable(status.getCode() + " "
                                                                       + status.getDescription())));
    }

    private static RuntimeException unavailable(String reason) {
        return Status.UNAVAILABLE.withDescription("etcd lease stream: " + reason).asRuntimeException();
    }
}
