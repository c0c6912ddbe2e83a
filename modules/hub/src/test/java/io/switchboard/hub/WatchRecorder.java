package io.switchboard.hub;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.WatchRequest;
import io.switchboard.api.hub.v1.WatchResponse;

/**
 * Records what a Watch stream delivers, for tests.
 */
final class WatchRecorder implements StreamObserver<WatchResponse>, AutoCloseable {
    private final BlockingQueue<WatchResponse> messages = new LinkedBlockingQueue<>();
    private final Context.CancellableContext context = Context.current().withCancellation();
    private volatile Status end;

    static WatchRecorder watch(HubGrpc.HubStub stub, String service) {
        WatchRecorder recorder = new WatchRecorder();
        recorder.context.run(() -> stub.watch(WatchRequest.newBuilder().setService(service).build(), recorder));
        return recorder;
    }

    WatchResponse next(Duration timeout) throws InterruptedException {
        WatchResponse message = messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (message == null) {
            throw new AssertionError("no Watch message within " + timeout + (end == null ? "" : "; stream ended " + end));
        }
        return message;
    }

    WatchResponse poll(Duration timeout) throws InterruptedException {
        return messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    Status end() {
        return end;
    }

    @Override
    public void onNext(WatchResponse value) {
        messages.add(value);
    }

    @Override
    public void onError(Throwable t) {
        end = Status.fromThrowable(t);
    }

    @Override
    public void onCompleted() {
        end = Status.OK;
    }

    @Override
    public void close() {
        context.cancel(null);
    }
}
