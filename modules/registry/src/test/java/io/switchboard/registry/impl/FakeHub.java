package io.switchboard.registry.impl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.hub.v1.DeregisterRequest;
import io.switchboard.api.hub.v1.DeregisterResponse;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.KeepAliveRequest;
import io.switchboard.api.hub.v1.KeepAliveResponse;
import io.switchboard.api.hub.v1.LeaseStatus;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.api.hub.v1.RegisterResponse;

/**
 * A hub in the test's JVM over grpc-java's in-process transport, with no etcd: it grants lease ids, records every
 * call with the time it arrived, and answers KeepAlive as the test scripts it.
 */
final class FakeHub extends HubGrpc.HubImplBase implements AutoCloseable {
    /** A KeepAlive call as it arrived. */
    record Renewal(long nanos, List<Long> leaseIds) {
    }

    /** KeepAlive calls in arrival order. */
    final List<Renewal> renewals = new CopyOnWriteArrayList<>();
    /** Leases granted, in order. */
    final List<Long> registered = new CopyOnWriteArrayList<>();
    /** Leases revoked through Deregister. */
    final List<Long> deregistered = new CopyOnWriteArrayList<>();
    /** Leases that KeepAlive reports not alive. */
    final Set<Long> gone = ConcurrentHashMap.newKeySet();
    /** Leases that KeepAlive leaves out of its answer. */
    final Set<Long> unknown = ConcurrentHashMap.newKeySet();
    /** How many of the coming KeepAlive calls fail with UNAVAILABLE. */
    final AtomicInteger failNext = new AtomicInteger();
    /** The client's connection to this hub. */
    final HubConnection connection;

    private final AtomicLong leases = new AtomicLong(1000);
    private final Server server;

    FakeHub() {
        String name = InProcessServerBuilder.generateName();
        try {
            server = InProcessServerBuilder.forName(name).addService(this).build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        connection = new HubConnection(InProcessChannelBuilder.forName(name).build(), null);
    }

    @Override
    public void register(RegisterRequest request, StreamObserver<RegisterResponse> response) {
        long lease = leases.incrementAndGet();
        registered.add(lease);
        response.onNext(RegisterResponse.newBuilder().setLeaseId(lease).setTtlSeconds(request.getTtlSeconds()).build());
        response.onCompleted();
    }

    @Override
    public void keepAlive(KeepAliveRequest request, StreamObserver<KeepAliveResponse> response) {
        renewals.add(new Renewal(System.nanoTime(), List.copyOf(request.getLeaseIdsList())));
        if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            response.onError(Status.UNAVAILABLE.withDescription("scripted failure").asRuntimeException());
            return;
        }
        KeepAliveResponse.Builder answer = KeepAliveResponse.newBuilder();
        for (long lease : request.getLeaseIdsList()) {
            if (!unknown.contains(lease)) {
                answer.addLeases(LeaseStatus.newBuilder().setLeaseId(lease).setAlive(!gone.contains(lease)));
            }
        }
        response.onNext(answer.build());
        response.onCompleted();
    }

    @Override
    public void deregister(DeregisterRequest request, StreamObserver<DeregisterResponse> response) {
        deregistered.add(request.getLeaseId());
        response.onNext(DeregisterResponse.getDefaultInstance());
        response.onCompleted();
    }

    /** The KeepAlive calls that carried a lease, in arrival order. */
    List<Renewal> renewalsOf(long lease) {
        return renewals.stream().filter(r -> r.leaseIds().contains(lease)).toList();
    }

    @Override
    public void close() throws InterruptedException {
        connection.close();
        server.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    }
}
