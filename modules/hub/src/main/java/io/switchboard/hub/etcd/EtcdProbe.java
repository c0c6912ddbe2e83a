package io.switchboard.hub.etcd;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;

/**
 * Tells whether etcd answers, by a small read every interval on a virtual thread. The hub is ready only while it
 * does. When etcd accepts connections again but the client still fails, it replaces the client, so that the hub
 * recovers within about one interval of etcd's return however long the outage was. Logs one line when etcd is
 * lost and one when it is back. Thread safe.
 */
public final class EtcdProbe implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EtcdProbe.class.getName());

    private final EtcdStore store;
    private final Duration interval;
    private final Thread thread;
    private volatile boolean reachable;
    private volatile Instant since = Instant.now();
    private volatile boolean closed;

    private EtcdProbe(EtcdStore store, Duration interval) {
        this.store = store;
        this.interval = interval;
        this.thread = Thread.ofVirtual().name("etcd-probe").unstarted(this::run);
    }

    /**
     * Starts probing.
     *
     * @param store    the store to probe
     * @param interval time between probes; each probe waits at most this long
     * @return the running probe
     */
    public static EtcdProbe start(EtcdStore store, Duration interval) {
        EtcdProbe probe = new EtcdProbe(store, interval);
        probe.reachable = store.ping(interval.toMillis());
        probe.thread.start();
        return probe;
    }

    /**
     * Whether etcd answered the last probe.
     *
     * @return true when reachable
     */
    public boolean reachable() {
        return reachable;
    }

    /**
     * When {@link #reachable()} last changed (or the probe started).
     *
     * @return the time of the last change
     */
    public Instant since() {
        return since;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }

    private void run() {
        if (!reachable) {
            LOG.log(Level.WARNING, "etcd unreachable at start; the hub is not ready until it answers");
        }
        while (!closed) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            boolean now = store.ping(interval.toMillis());
            if (!now && store.acceptsConnections(300)) {
                // etcd is back but the client is still waiting out its reconnect backoff
                LOG.log(Level.INFO, "etcd accepts connections again; reconnecting the etcd client");
                store.reconnect();
                now = store.ping(interval.toMillis());
            }
            if (now != reachable) {
                LOG.log(now ? Level.INFO : Level.WARNING, now ? "etcd reachable again" : "etcd unreachable");
                since = Instant.now();
            }
            reachable = now;
        }
    }
}
