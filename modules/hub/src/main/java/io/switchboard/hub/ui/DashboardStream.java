package io.switchboard.hub.ui;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.google.gson.Gson;
import io.helidon.http.Status;
import io.helidon.http.sse.SseEvent;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.sse.SseSink;

/**
 * The dashboard's live feed: Server-Sent Events, each a full {@link Dashboard#services} snapshot named
 * {@code services}.
 * <p>
 * One publisher thread builds a snapshot at once when the view changes (at most every {@value #MIN_SPACING_MILLIS}
 * ms) and every second otherwise, so that renewal ages and etcd's state stay current; it builds nothing while no
 * browser is connected. Each connection runs on its own virtual thread and always sends the newest snapshot, so a
 * slow browser skips snapshots instead of queueing them. A connection that went away is noticed at the next send
 * (within a second) and released. At most {@code maxStreams} are open; more are refused with 503. Thread safe.
 */
final class DashboardStream implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DashboardStream.class.getName());
    private static final Gson GSON = new Gson();
    private static final long TICK_MILLIS = 1000;
    private static final long MIN_SPACING_MILLIS = 200;
    private static final Duration FIRST_SNAPSHOT_WAIT = Duration.ofSeconds(2);
    private static final Duration RECONNECT_DELAY = Duration.ofSeconds(2);
    // lease rounds take milliseconds; waiting a little keeps a snapshot from showing leases as unknown meanwhile
    private static final Duration PUBLISH_LEASE_WAIT = Duration.ofMillis(500);

    private final Dashboard dashboard;
    private final int maxStreams;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicLong lastRefusalLog = new AtomicLong();
    private final Object wake = new Object();
    private final Object frames = new Object();
    private final Thread publisher;
    private boolean changed;
    private Frame latest = new Frame(0, null);
    private volatile boolean closed;

    DashboardStream(Dashboard dashboard, int maxStreams) {
        this.dashboard = dashboard;
        this.maxStreams = maxStreams;
        this.publisher = Thread.ofVirtual().name("dashboard-publisher").start(this::publish);
    }

    /**
     * Tells the publisher that the view changed. Never blocks.
     */
    void viewChanged() {
        synchronized (wake) {
            changed = true;
            wake.notifyAll();
        }
    }

    /**
     * Connections open now.
     *
     * @return count
     */
    int openStreams() {
        return open.get();
    }

    /**
     * Serves one browser until it goes away or the hub stops. Blocks the request's virtual thread.
     *
     * @param req request
     * @param res response
     */
    void serve(ServerRequest req, ServerResponse res) {
        if (closed) {
            UiService.error(res, Status.SERVICE_UNAVAILABLE_503, "UNAVAILABLE", "hub shutting down");
            return;
        }
        if (open.incrementAndGet() > maxStreams) {
            open.decrementAndGet();
            logRefusal();
            UiService.error(res, Status.SERVICE_UNAVAILABLE_503, "UNAVAILABLE",
                            "too many dashboard streams open; poll /ui/api/services instead");
            return;
        }
        try (SseSink sink = res.sink(SseSink.TYPE)) {
            long seen = latest().sequence();
            sink.emit(event(GSON.toJson(dashboard.services(FIRST_SNAPSHOT_WAIT))));
            while (!closed) {
                Frame frame = next(seen);
                if (frame != null && !closed) {
                    sink.emit(event(frame.json()));
                    seen = frame.sequence();
                }
            }
        } catch (RuntimeException e) {
            // the browser went away (tab closed, reload): expected, nothing to report
            LOG.log(Level.DEBUG, "dashboard stream ended: " + e.getMessage());
        } finally {
            open.decrementAndGet();
        }
    }

    /*
     * Refused browsers poll and retry every few seconds each: one line a minute says it all.
     */
    private void logRefusal() {
        refused.incrementAndGet();
        long now = System.currentTimeMillis();
        long last = lastRefusalLog.get();
        if (now - last >= 60_000 && lastRefusalLog.compareAndSet(last, now)) {
            LOG.log(Level.WARNING, "dashboard streams at the limit of " + maxStreams + " (ui.max-streams): refused "
                                   + refused.getAndSet(0) + " since the last report; those browsers poll instead");
        }
    }

    @Override
    public void close() {
        closed = true;
        publisher.interrupt();
        synchronized (frames) {
            frames.notifyAll();
        }
    }

    private void publish() {
        long last = 0;
        while (!closed) {
            try {
                synchronized (wake) {
                    if (!changed) {
                        wake.wait(TICK_MILLIS);
                    }
                    changed = false;
                }
                Thread.sleep(Math.max(0, last + MIN_SPACING_MILLIS - System.currentTimeMillis()));
            } catch (InterruptedException e) {
                return;
            }
            if (open.get() == 0) {
                continue;
            }
            last = System.currentTimeMillis();
            try {
                String json = GSON.toJson(dashboard.services(PUBLISH_LEASE_WAIT));
                synchronized (frames) {
                    latest = new Frame(latest.sequence() + 1, json);
                    frames.notifyAll();
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "dashboard snapshot failed: " + e);
            }
        }
    }

    private Frame latest() {
        synchronized (frames) {
            return latest;
        }
    }

    private Frame next(long seen) {
        synchronized (frames) {
            if (latest.sequence() == seen && !closed) {
                try {
                    frames.wait(TICK_MILLIS * 5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted");
                }
            }
            return latest.sequence() == seen ? null : latest;
        }
    }

    private static SseEvent event(String json) {
        return SseEvent.builder().name("services").reconnectDelay(RECONNECT_DELAY).data(json).build();
    }

    private record Frame(long sequence, String json) {
    }
}
