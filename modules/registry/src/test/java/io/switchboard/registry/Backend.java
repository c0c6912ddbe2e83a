package io.switchboard.registry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.switchboard.testkit.FreePorts;

/**
 * A real gRPC server on a free port that counts the calls it serves, optionally slowly.
 */
final class Backend implements AutoCloseable {
    final int port;
    final AtomicInteger calls = new AtomicInteger();
    private final Server server;

    private Backend(int port, long delayMillis) {
        this.port = port;
        this.server = NettyServerBuilder.forPort(port).addService(new HealthGrpc.HealthImplBase() {
            @Override
            public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> responses) {
                calls.incrementAndGet();
                if (delayMillis > 0) {
                    try {
                        Thread.sleep(delayMillis);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                responses.onNext(HealthCheckResponse.newBuilder()
                                         .setStatus(HealthCheckResponse.ServingStatus.SERVING).build());
                responses.onCompleted();
            }
        }).build();
    }

    static Backend start(long delayMillis) {
        Backend backend = new Backend(FreePorts.next(), delayMillis);
        try {
            backend.server.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return backend;
    }

    /** Stops at once, as a crashed process would: connections are refused from now on. */
    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
