package io.switchboard.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.post.v1.GetPostRequest;
import io.switchboard.api.post.v1.ListPostsRequest;
import io.switchboard.api.post.v1.PostServiceGrpc;
import io.switchboard.identity.LocalCa;
import io.switchboard.identity.WorkloadTls;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Closed-loop gRPC load on the post service, the direct counterpart of wrk through the gateway: a fixed number of
 * calls in flight over one channel (what a gRPC client does), each answer starting the next call, latency of every
 * call recorded after a warm-up.
 *
 * <pre>
 * java -cp ... io.switchboard.bench.GrpcLoad host:port get|list [concurrency] [seconds] [warmup-seconds] [post-id]
 * </pre>
 * With {@code GRPC_LOAD_LOCAL_CA} (a local CA's directory) it calls over mutual TLS, as the gateway does.
 * Prints one line: {@code grpc call=get concurrency=16 seconds=20 requests=... req/s=... p50=...ms p99=...ms errors=0}.
 */
public final class GrpcLoad {
    private final ManagedChannel channel;
    private final MethodDescriptor<Message, Message> method;
    private final Message request;
    private final int concurrency;
    private final Histogram latencies = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(10), 3);
    private final AtomicLong errors = new AtomicLong();
    private volatile boolean recording;
    private volatile boolean running = true;

    private GrpcLoad(ManagedChannel channel, MethodDescriptor<Message, Message> method, Message request,
                     int concurrency) {
        this.channel = channel;
        this.method = method;
        this.request = request;
        this.concurrency = concurrency;
    }

    /*
     * One channel to the target: plaintext, or with a local CA's directory mutual TLS as the gateway calls (its
     * identity from that CA, the server proven to be post).
     */
    private static ManagedChannel channel(String target, String localCa) {
        NettyChannelBuilder builder = NettyChannelBuilder.forTarget(target).executor(MoreExecutors.directExecutor());
        if (localCa == null || localCa.isEmpty()) {
            return builder.usePlaintext().build();
        }
        try {
            WorkloadTls tls = WorkloadTls.load(LocalCa.openOrCreate(Path.of(localCa), LocalCa.DEFAULT_TRUST_DOMAIN)
                                                       .ensure("gateway"), Duration.ofHours(1));
            return builder.sslContext(GrpcSslContexts.forClient().keyManager(tls.keyManager())
                                              .trustManager(tls.trustManager("post")).build())
                    // the post certificate names localhost, not the address dialled
                    .overrideAuthority("localhost").build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the gateway's identity from " + localCa, e);
        }
    }

    /**
     * Runs the load and prints the report line.
     *
     * @param args target, call, concurrency, seconds, warm-up seconds, post id (for get)
     * @throws InterruptedException when interrupted
     */
    public static void main(String[] args) throws InterruptedException {
        if (args.length < 2 || !Map.of("get", 1, "list", 1).containsKey(args[1])) {
            System.err.println("usage: GrpcLoad host:port get|list [concurrency] [seconds] [warmup-seconds] [post-id]");
            System.exit(2);
        }
        int concurrency = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        int warmup = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        boolean get = args[1].equals("get");
        if (get && args.length < 6) {
            System.err.println("get needs a post id");
            System.exit(2);
        }
        ManagedChannel channel = channel(args[0], System.getenv("GRPC_LOAD_LOCAL_CA"));
        @SuppressWarnings("unchecked")
        MethodDescriptor<Message, Message> method = (MethodDescriptor<Message, Message>) (MethodDescriptor<?, ?>)
                (get ? PostServiceGrpc.getGetPostMethod() : PostServiceGrpc.getListPostsMethod());
        Message request = get ? GetPostRequest.newBuilder().setId(args[5]).build()
                              : ListPostsRequest.newBuilder().setPageSize(10).build();
        GrpcLoad load = new GrpcLoad(channel, method, request, concurrency);
        try {
            load.run(warmup, seconds, args[1]);
        } finally {
            channel.shutdownNow();
        }
    }

    private void run(int warmup, int seconds, String name) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(concurrency);
        for (int i = 0; i < concurrency; i++) {
            call(stopped);
        }
        Thread.sleep(TimeUnit.SECONDS.toMillis(warmup));
        latencies.reset();
        errors.set(0);
        recording = true;
        long start = System.nanoTime();
        Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
        recording = false;
        double elapsed = (System.nanoTime() - start) / 1e9;
        Histogram measured = latencies.copy();
        running = false;
        stopped.await(10, TimeUnit.SECONDS);
        long requests = measured.getTotalCount();
        System.out.printf("grpc call=%s concurrency=%d seconds=%d requests=%d req/s=%.0f p50=%.2fms p99=%.2fms errors=%d%n",
                          name, concurrency, seconds, requests, requests / elapsed,
                          measured.getValueAtPercentile(50) / 1000.0, measured.getValueAtPercentile(99) / 1000.0,
                          errors.get());
    }

    /* One call; its answer starts the next one until the run ends. */
    private void call(CountDownLatch stopped) {
        long start = System.nanoTime();
        ClientCalls.asyncUnaryCall(channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS)),
                                   request, new StreamObserver<>() {
                    @Override
                    public void onNext(Message value) {
                    }

                    @Override
                    public void onError(Throwable t) {
                        if (recording) {
                            errors.incrementAndGet();
                        }
                        next(stopped);
                    }

                    @Override
                    public void onCompleted() {
                        if (recording) {
                            latencies.recordValue(Math.min((System.nanoTime() - start) / 1000,
                                                           latencies.getHighestTrackableValue()));
                        }
                        next(stopped);
                    }
                });
    }

    private void next(CountDownLatch stopped) {
        if (running) {
            call(stopped);
        } else {
            stopped.countDown();
        }
    }
}
