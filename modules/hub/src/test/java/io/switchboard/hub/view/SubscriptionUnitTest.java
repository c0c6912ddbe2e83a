package io.switchboard.hub.view;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.switchboard.api.hub.v1.WatchResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@Timeout(10)
class SubscriptionUnitTest {

    @Test
    void aSubscriberThatFallsBehindIsEndedWithResourceExhaustedAndNeverHoldsUpTheCaller() throws Exception {
        StuckStream stream = new StuckStream();
        AtomicBoolean removed = new AtomicBoolean();
        Subscription subscription = new Subscription("orders", true, stream, 2, ended -> removed.set(true));
        subscription.start();

        // offering never blocks, however stuck the stream is: all ten offers return while it is still stuck
        CompletableFuture.runAsync(() -> {
            for (int i = 1; i <= 10; i++) {
                subscription.offer(message(i));
            }
        }).get(10, TimeUnit.SECONDS);
        assertThat(stream.unblock.getCount()).isEqualTo(1);
        assertThat(removed).isTrue();

        stream.unblock.countDown();
        await().atMost(Duration.ofSeconds(5)).until(() -> stream.error != null);
        assertThat(Status.fromThrowable(stream.error).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(Status.fromThrowable(stream.error).getDescription()).contains("subscribe again");
        // what was already being written goes out; nothing queued after the overflow does
        assertThat(stream.sent).extracting(WatchResponse::getRevision).doesNotContain(10L);
    }

    @Test
    void aSubscriberThatKeepsUpGetsEverythingInOrder() {
        StuckStream stream = new StuckStream();
        stream.unblock.countDown();
        Subscription subscription = new Subscription("orders", true, stream, 4, ended -> { });
        subscription.start();
        for (int i = 1; i <= 100; i++) {
            subscription.offer(message(i));
            int expected = i;
            // a subscriber that keeps up never has more than a few queued
            await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(2))
                    .until(() -> stream.sent.size() == expected);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> stream.sent.size() == 100);
        assertThat(stream.sent).extracting(WatchResponse::getRevision).isSorted();
        assertThat(stream.error).isNull();
    }

    @Test
    void aCancelledSubscriberIsRemovedAndGetsNoError() {
        StuckStream stream = new StuckStream();
        stream.unblock.countDown();
        AtomicBoolean removed = new AtomicBoolean();
        Subscription subscription = new Subscription("orders", true, stream, 4, ended -> removed.set(true));
        subscription.start();
        stream.cancelHandler.run();
        assertThat(removed).isTrue();
        subscription.offer(message(1));
        assertThat(stream.error).isNull();
    }

    private static WatchResponse message(long revision) {
        return WatchResponse.newBuilder().setType(WatchResponse.Type.PUT).setRevision(revision).build();
    }

    /** A stream whose writes block until released, as a client that stopped reading. */
    private static final class StuckStream extends ServerCallStreamObserver<WatchResponse> {
        final CountDownLatch unblock = new CountDownLatch(1);
        final List<WatchResponse> sent = new CopyOnWriteArrayList<>();
        volatile Throwable error;
        volatile Runnable cancelHandler = () -> { };
        volatile boolean cancelled;

        @Override
        public void onNext(WatchResponse value) {
            try {
                unblock.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sent.add(value);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onCompleted() {
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public void setOnCancelHandler(Runnable onCancelHandler) {
            cancelHandler = () -> {
                cancelled = true;
                onCancelHandler.run();
            };
        }

        @Override
        public void setCompression(String compression) {
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setOnReadyHandler(Runnable onReadyHandler) {
        }

        @Override
        public void request(int count) {
        }

        @Override
        public void setMessageCompression(boolean enable) {
        }

        @Override
        public void disableAutoInboundFlowControl() {
        }
    }
}
