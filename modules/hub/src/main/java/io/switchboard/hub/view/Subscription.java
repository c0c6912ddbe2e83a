package io.switchboard.hub.view;

import java.lang.System.Logger.Level;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.switchboard.api.hub.v1.WatchResponse;

/**
 * One subscriber's Watch stream: a bounded queue drained by its own virtual thread, so that a slow subscriber
 * never holds up the view or the other subscribers.
 * <p>
 * When the queue overflows, the stream is closed with RESOURCE_EXHAUSTED; the client subscribes again and gets a
 * fresh snapshot, which is cheaper and safer than buffering without bound. Thread safe.
 */
final class Subscription {
    private static final System.Logger LOG = System.getLogger(Subscription.class.getName());
    private static final WatchResponse END = WatchResponse.getDefaultInstance();

    private final String service;
    private final boolean parts;
    private final ServerCallStreamObserver<WatchResponse> observer;
    private final BlockingQueue<WatchResponse> queue;
    private final Consumer<Subscription> onEnd;
    private volatile Status ending;

    Subscription(String service, boolean parts, ServerCallStreamObserver<WatchResponse> observer, int capacity,
                 Consumer<Subscription> onEnd) {
        this.service = service;
        this.parts = parts;
        this.observer = observer;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.onEnd = onEnd;
    }

    /** Whether the subscriber takes a snapshot in parts. */
    boolean parts() {
        return parts;
    }

    void start() {
        observer.setOnCancelHandler(() -> end(null));
        Thread.ofVirtual().name("watch-" + (service.isEmpty() ? "*" : service)).start(this::drain);
    }

    /**
     * Queues a message; closes the stream if the subscriber is too far behind.
     *
     * @param message message to send
     */
    void offer(WatchResponse message) {
        if (ending != null) {
            return;
        }
        if (!queue.offer(message)) {
            LOG.log(Level.WARNING, "watch subscriber of '" + service + "' too slow, closing its stream");
            end(Status.RESOURCE_EXHAUSTED.withDescription(
                    "subscriber too slow: more than " + (queue.size()) + " changes queued; subscribe again"));
        }
    }

    /**
     * Ends the stream: with an error status, or silently when the client went away (null).
     *
     * @param status how to end the stream, null when the client cancelled
     */
    void end(Status status) {
        synchronized (this) {
            if (ending != null) {
                return;
            }
            ending = status == null ? Status.CANCELLED : status;
        }
        queue.clear();
        queue.offer(END);
        onEnd.accept(this);
    }

    private void drain() {
        try {
            while (true) {
                WatchResponse message = queue.take();
                if (message == END) {
                    break;
                }
                observer.onNext(message);
            }
            if (!observer.isCancelled()) {
                observer.onError(ending.asRuntimeException());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // the client went away while we were writing
            end(null);
        }
    }
}
