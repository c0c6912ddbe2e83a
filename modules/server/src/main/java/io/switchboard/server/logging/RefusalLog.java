package io.switchboard.server.logging;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Whether a refusal of a peer is worth a log line: the first one per peer per minute is; the rest are only counted
 * (by the caller's metric). A peer that retries in a loop fills no disk. Remembers at most 10,000 peers (then
 * starts over). Thread safe.
 */
public final class RefusalLog {
    private static final long MINUTE = TimeUnit.MINUTES.toNanos(1);
    private static final int MAX_PEERS = 10_000;

    private final ConcurrentHashMap<String, Long> lastLogged = new ConcurrentHashMap<>();

    /**
     * Notes a refusal of a peer.
     *
     * @param peer the peer, such as its address or identity
     * @return true when this refusal is the first of the peer in the last minute
     */
    public boolean first(String peer) {
        long now = System.nanoTime();
        if (lastLogged.size() > MAX_PEERS) {
            lastLogged.clear();
        }
        // each pass either logs, or sees another thread's note within the minute, or lost a race and looks again
        while (true) {
            Long last = lastLogged.putIfAbsent(peer, now);
            if (last == null) {
                return true;
            }
            if (now - last < MINUTE) {
                return false;
            }
            if (lastLogged.replace(peer, last, now)) {
                return true;
            }
        }
    }
}
