package io.switchboard.tokens;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Keeps a verifier's keys and revocations fresh in the background: it fetches the keys (and the revocations) as soon
 * as their source is there, before any token needs them, then reads new revocations every poll interval. A
 * revocation is therefore refused by this verifier within about one interval of the logout. While revocations cannot
 * be read, those already read are still refused and newer ones are not known: one line says so when it starts,
 * one when it ends. Close it to stop.
 */
public final class TokenUpkeep implements AutoCloseable {
    /** Default time between two reads of the revocations. */
    public static final Duration POLL = Duration.ofSeconds(1);

    private static final System.Logger LOG = System.getLogger(TokenUpkeep.class.getName());

    private final TokenVerifier verifier;
    private final BooleanSupplier sourceThere;
    private final long pollMillis;
    private final Thread thread;
    private volatile boolean closed;

    private TokenUpkeep(TokenVerifier verifier, Duration poll, BooleanSupplier sourceThere) {
        this.verifier = verifier;
        this.sourceThere = sourceThere;
        this.pollMillis = poll.toMillis();
        this.thread = Thread.ofVirtual().name("token-upkeep").unstarted(this::run);
    }

    /**
     * Starts the upkeep of a verifier.
     *
     * @param verifier    the verifier
     * @param poll        time between two reads of the revocations, 100 ms to 1 minute
     * @param sourceThere whether the keys' source may answer now (user has a live instance): nothing is fetched,
     *                    and nothing fails, until it does
     * @return the running upkeep
     * @throws IllegalArgumentException when the interval is out of bounds
     */
    public static TokenUpkeep start(TokenVerifier verifier, Duration poll, BooleanSupplier sourceThere) {
        TokenUpkeep upkeep = new TokenUpkeep(verifier, checked(poll), sourceThere);
        upkeep.thread.start();
        return upkeep;
    }

    /**
     * A poll interval, checked.
     *
     * @param poll time between two reads of the revocations
     * @return the same interval
     * @throws IllegalArgumentException when it is not 100 ms to 1 minute
     */
    public static Duration checked(Duration poll) {
        if (poll.compareTo(Duration.ofMillis(100)) < 0 || poll.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException("tokens.revocation-poll must be 100 ms to 1 minute, got " + poll);
        }
        return poll;
    }

    private void run() {
        boolean failing = false;
        while (!closed) {
            try {
                // the first fetch logs its own failure (TokenVerifier); after it, the revocations are read here
                if (sourceThere.getAsBoolean() && verifier.prefetch()) {
                    verifier.revoked().sync();
                    if (failing) {
                        failing = false;
                        LOG.log(Level.INFO, "token revocations read again");
                    }
                }
            } catch (RuntimeException e) {
                if (!failing && !closed) {
                    failing = true;
                    LOG.log(Level.WARNING, "cannot read token revocations (" + e.getMessage() + "); tokens revoked "
                                           + "from now on are accepted here until they can be read");
                }
            }
            try {
                Thread.sleep(pollMillis);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
