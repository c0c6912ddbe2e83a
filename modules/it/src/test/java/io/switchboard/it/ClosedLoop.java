package io.switchboard.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

import static org.awaitility.Awaitility.await;

/**
 * Clients calling in a closed loop (each answer starts the next call), counting answers by status (-1 for a request
 * that got no answer) and keeping the longest request. Thread safe.
 */
final class ClosedLoop {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    private final AtomicLong maxNanos = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    /* why requests got no answer (the first few), so that a failed run says what happened */
    private final List<String> failures = new CopyOnWriteArrayList<>();
    /* what the system looked like when the first request got no answer (a thread dump), when asked for */
    private volatile Supplier<String> snapshot = () -> "";
    private volatile String firstFailureSnapshot = "";

    private ClosedLoop() {
    }

    /**
     * Starts the clients.
     *
     * @param clients how many call at once
     * @param call    one call; returns the HTTP status
     * @return the running load
     */
    static ClosedLoop start(int clients, IntSupplier call) {
        ClosedLoop load = new ClosedLoop();
        for (int i = 0; i < clients; i++) {
            load.threads.add(Thread.ofVirtual().start(() -> {
                while (!load.stop.get()) {
                    long start = System.nanoTime();
                    int status;
                    try {
                        status = call.getAsInt();
                    } catch (RuntimeException e) {
                        status = -1;
                        if (load.failures.size() < 5) {
                            load.failures.add(e.getMessage());
                            if (load.failures.size() == 1) {
                                load.firstFailureSnapshot = load.snapshot.get();
                            }
                        }
                    }
                    load.maxNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                    load.statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
                }
            }));
        }
        return load;
    }

    /**
     * What to record when the first request gets no answer: its result comes with {@link Result#failures()}.
     *
     * @param snapshot takes the record (a process's thread dump, say)
     * @return this
     */
    ClosedLoop onFirstFailure(Supplier<String> snapshot) {
        this.snapshot = snapshot;
        return this;
    }

    /**
     * Waits until the clients got this many more answers (of any status), however long a loaded host takes.
     *
     * @param more answers to wait for
     */
    void awaitAnswers(int more) {
        int target = answered() + more;
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> answered() >= target);
    }

    /**
     * Stops the clients and reports.
     *
     * @return answers by status and the longest request
     * @throws InterruptedException when interrupted while the clients finish
     */
    Result finish() throws InterruptedException {
        stop.set(true);
        for (Thread thread : threads) {
            thread.join(15_000);
        }
        Map<Integer, Integer> result = new TreeMap<>();
        statuses.forEach((status, count) -> result.put(status, count.get()));
        List<String> why = new ArrayList<>(failures);
        if (!firstFailureSnapshot.isEmpty()) {
            why.add("when the first failed:\n" + firstFailureSnapshot);
        }
        return new Result(result, Duration.ofNanos(maxNanos.get()).toMillis(), List.copyOf(why));
    }

    private int answered() {
        return statuses.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    /**
     * What the clients saw.
     *
     * @param statuses  answers by HTTP status (-1: no answer)
     * @param maxMillis the longest request
     * @param failures  why the first requests without an answer got none, and the snapshot taken at the first
     */
    record Result(Map<Integer, Integer> statuses, long maxMillis, List<String> failures) {
    }
}
