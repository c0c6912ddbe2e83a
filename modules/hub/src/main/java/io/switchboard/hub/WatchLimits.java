package io.switchboard.hub;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many Watch streams the hub serves at once, in all and per client connection. Each holds a queue of changes
 * and a thread while it is open, so a client that opens them without end would otherwise take the hub's memory.
 * Thread safe.
 */
final class WatchLimits {
    private final int total;
    private final int perConnection;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<String, Integer> byConnection = new ConcurrentHashMap<>();

    /**
     * @param total         streams at once, at least 1
     * @param perConnection streams of one connection at once, at least 1
     */
    WatchLimits(int total, int perConnection) {
        if (total < 1 || perConnection < 1) {
            throw new IllegalArgumentException("hub.max-watches and hub.max-watches-per-connection must be at least 1, "
                                               + "got " + total + " and " + perConnection);
        }
        this.total = total;
        this.perConnection = perConnection;
    }

    /** Why a stream was not admitted. */
    enum Refusal {
        /** the connection has as many as it may */
        CONNECTION,
        /** the hub serves as many as it may */
        TOTAL
    }

    /**
     * A place for a stream of the connection, or why there is none.
     *
     * @param connection the client connection (its remote address)
     * @return the place, to release when the stream ends, or a refusal
     */
    Place admit(String connection) {
        boolean[] admitted = new boolean[1];
        byConnection.compute(connection, (c, count) -> {
            int now = count == null ? 0 : count;
            if (now >= perConnection) {
                return count;
            }
            admitted[0] = true;
            return now + 1;
        });
        if (!admitted[0]) {
            return new Place(null, Refusal.CONNECTION);
        }
        if (open.incrementAndGet() > total) {
            open.decrementAndGet();
            leave(connection);
            return new Place(null, Refusal.TOTAL);
        }
        return new Place(connection, null);
    }

    private void leave(String connection) {
        byConnection.computeIfPresent(connection, (c, count) -> count <= 1 ? null : count - 1);
    }

    /** A stream's place, released once when it ends. */
    final class Place implements Runnable {
        private final String connection;
        private final Refusal refusal;
        private final AtomicBoolean released = new AtomicBoolean();

        private Place(String connection, Refusal refusal) {
            this.connection = connection;
            this.refusal = refusal;
        }

        /** Why the stream was refused, or null when it was admitted. */
        Refusal refusal() {
            return refusal;
        }

        @Override
        public void run() {
            if (refusal == null && released.compareAndSet(false, true)) {
                open.decrementAndGet();
                leave(connection);
            }
        }
    }
}
