package io.switchboard.user.accounts;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;

/**
 * Password policy and hashing: Argon2id (OWASP's minimum: 19 MiB, 2 iterations, 1 lane) with a random 16-byte
 * salt, stored in the PHC string format. Only hashes are ever stored. Thread safe.
 * <p>
 * Each hash holds its whole memory cost on the heap while it runs, and nothing else bounds how many run at once:
 * handlers are virtual threads with one carrier per core, so on a node with many cores a burst of logins filled the
 * heap and stalled the service (LoginBurstTest: 16 carriers, a 128 MiB heap). Hashes therefore take at most half
 * of the maximum heap together; the others wait for their turn, within the call's deadline.
 */
public final class Passwords {
    /** Shortest password, in characters. */
    public static final int MIN_LENGTH = 8;
    /** Longest password, in characters: Argon2 costs grow with it, so it is bounded. */
    public static final int MAX_LENGTH = 128;

    /** Longest wait for a turn to hash when the call has no deadline. */
    private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final Argon2Function argon2;
    private final Semaphore turns;
    private final String decoy;

    /**
     * Hashing with the given Argon2id cost.
     *
     * @param memoryKib  memory per hash, KiB
     * @param iterations passes over the memory
     */
    public Passwords(int memoryKib, int iterations) {
        this.argon2 = Argon2Function.getInstance(memoryKib, iterations, 1, 32, Argon2.ID);
        this.turns = new Semaphore(concurrentHashes(Runtime.getRuntime().maxMemory(), memoryKib), true);
        this.decoy = hash("decoy password, never matches");
    }

    /**
     * Checks the policy: {@value #MIN_LENGTH}..{@value #MAX_LENGTH} characters.
     *
     * @param password the password
     * @throws io.grpc.StatusRuntimeException INVALID_ARGUMENT
     */
    public static void checkPolicy(String password) {
        int length = password.codePointCount(0, password.length());
        if (length < MIN_LENGTH || length > MAX_LENGTH) {
            throw Status.INVALID_ARGUMENT.withDescription("userPassword must be " + MIN_LENGTH + " to " + MAX_LENGTH
                                                          + " characters").asRuntimeException();
        }
    }

    /**
     * Hashes a password with a fresh salt.
     *
     * @param password the password
     * @return PHC string
     */
    public String hash(String password) {
        return inTurn(() -> Password.hash(password).addRandomSalt(16).with(argon2).getResult());
    }

    /**
     * Whether a password matches a stored hash. With no stored hash (unknown user) it checks a decoy, so that
     * both answers take the same time.
     *
     * @param password the password
     * @param stored   the stored hash, or null
     * @return true when it matches
     */
    public boolean matches(String password, String stored) {
        if (password.length() > MAX_LENGTH * 2) {
            return false;
        }
        boolean matches = inTurn(() -> Password.check(password, stored == null ? decoy : stored).with(argon2));
        return stored != null && matches;
    }

    /**
     * How many hashes may run at once: as many as half of the heap holds, at least one.
     *
     * @param maxHeapBytes maximum heap
     * @param memoryKib    memory per hash, KiB
     * @return hashes at once
     */
    static int concurrentHashes(long maxHeapBytes, int memoryKib) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxHeapBytes / 2 / (memoryKib * 1024L)));
    }

    private <T> T inTurn(Supplier<T> hashing) {
        Deadline deadline = Context.current().getDeadline();
        long wait = deadline == null
                    ? MAX_WAIT_NANOS
                    : Math.min(MAX_WAIT_NANOS, deadline.timeRemaining(TimeUnit.NANOSECONDS));
        try {
            if (!turns.tryAcquire(Math.max(0, wait), TimeUnit.NANOSECONDS)) {
                throw Status.UNAVAILABLE.withDescription("too many password checks in progress; retry later")
                        .asRuntimeException();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted while waiting to check a password").asRuntimeException();
        }
        try {
            return hashing.get();
        } finally {
            turns.release();
        }
    }
}
