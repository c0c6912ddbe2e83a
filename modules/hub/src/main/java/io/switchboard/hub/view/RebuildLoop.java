package io.switchboard.hub.view;

import java.lang.System.Logger.Level;
import java.time.Duration;

import io.switchboard.server.Backoff;

/**
 * Runs a rebuild on its own virtual thread whenever one is requested, and retries a rebuild that fails (etcd away)
 * with jittered exponential backoff until it succeeds or the loop is closed. Requests made while a rebuild runs
 * are folded into one more rebuild after it. Thread safe.
 */
final class RebuildLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RebuildLoop.class.getName());

    private final Runnable rebuild;
    private final Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));
    private final Thread thread;
    private final Object signal = new Object();
    private boolean requested;
    private volatile boolean closed;

    /**
     * A loop, not started.
     *
     * @param name    the thread's name
     * @param rebuild the rebuild; it fails by throwing a RuntimeException
     */
    RebuildLoop(String name, Runnable rebuild) {
        this.rebuild = rebuild;
        this.thread = Thread.ofVirtual().name(name).unstarted(this::run);
    }

    /**
     * Starts the loop with a first rebuild.
     */
    void start() {
        request();
        thread.start();
    }

    /**
     * Asks for a rebuild; returns at once.
     */
    void request() {
        synchronized (signal) {
            requested = true;
            signal.notifyAll();
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }

    private void run() {
        try {
            while (!closed) {
                synchronized (signal) {
                    while (!requested) {
                        signal.wait();
                    }
                    requested = false;
                }
                rebuildUntilDone();
            }
        } catch (InterruptedException e) {
            // closed
        }
    }

    private void rebuildUntilDone() throws InterruptedException {
        while (!closed) {
            try {
                rebuild.run();
                backoff.reset();
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.DEBUG, "view rebuild failed: " + e.getMessage());
                Thread.sleep(backoff.nextMillis());
            }
        }
    }
}
