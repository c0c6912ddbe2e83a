package io.switchboard.user.accounts;

import java.lang.System.Logger.Level;
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
 * <p>
 * A stored hash is checked with the cost it was made with (the PHC string names it), not the configured one, so that
 * the operator can change the cost without locking anyone out; a successful check of a hash made with another cost
 * gives a new hash at the configured cost to store in its place (OWASP Password Storage Cheat Sheet: upgrade on
 * login). The memory that half the heap holds is shared by the cost of each hash running, whatever its cost.
 * <p>
 * Registrations may take at most half of that memory at once (when it holds two hashes or more): a flood of
 * registrations, each a hash, then leaves logins the other half, instead of queueing them behind it until their
 * deadlines pass.
 */
public final class Passwords {
    private static final System.Logger LOG = System.getLogger(Passwords.class.getName());
    /** Shortest password, in characters. */
    public static final int MIN_LENGTH = 8;
    /** Longest password, in characters: Argon2 costs grow with it, so it is bounded. */
    public static final int MAX_LENGTH = 128;

    /** Longest wait for a turn to hash when the call has no deadline. */
    private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final Argon2Function argon2;
    /** KiB of hash memory free to take; a hash takes its own cost in KiB (at most all of it). */
    private final Semaphore turns;
    /** KiB of it that registrations may take at once. */
    private final Semaphore registrations;
    private final int capacityKib;
    private final String decoy;

    /**
     * Hashing with the given Argon2id cost.
     *
     * @param memoryKib  memory per hash, KiB
     * @param iterations passes over the memory
     */
    public Passwords(int memoryKib, int iterations) {
        this(memoryKib, iterations, concurrentHashes(Runtime.getRuntime().maxMemory(), memoryKib));
    }

    /* with the number of hashes that may run at once given */
    Passwords(int memoryKib, int iterations, int hashesAtOnce) {
        this.argon2 = Argon2Function.getInstance(memoryKib, iterations, 1, 32, Argon2.ID);
        this.capacityKib = hashesAtOnce * memoryKib;
        this.turns = new Semaphore(capacityKib, true);
        this.registrations = new Semaphore(Math.max(1, hashesAtOnce / 2) * memoryKib, true);
        this.decoy = hashed("decoy password, never matches");
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
     * Hashes a new account's password with a fresh salt at the configured cost, within the registrations' share.
     *
     * @param password the password
     * @return PHC string
     * @throws io.grpc.StatusRuntimeException UNAVAILABLE when no turn came within the call's deadline
     */
    public String hash(String password) {
        int kib = kib(argon2);
        acquire(registrations, kib, "too many registrations in progress; retry later");
        try {
            return hashed(password);
        } finally {
            registrations.release(kib);
        }
    }

    private String hashed(String password) {
        return inTurn(argon2, () -> Password.hash(password).addRandomSalt(16).with(argon2).getResult());
    }

    /**
     * Checks a password against a stored hash with the cost the hash was made with and, when it matches and that
     * cost is not the configured one, hashes it again at the configured cost. With no stored hash (unknown user) it
     * checks a decoy, so that both answers take the same time.
     *
     * @param password the password
     * @param stored   the stored hash, or null
     * @return whether it matches, and the hash to store instead when there is one
     */
    public Check check(String password, String stored) {
        if (password.length() > MAX_LENGTH * 2) {
            return Check.NO_MATCH;
        }
        Argon2Function made = stored == null ? argon2 : costOf(stored);
        if (made == null) {
            inTurn(argon2, () -> Password.check(password, decoy).with(argon2));
            return Check.NO_MATCH;
        }
        boolean matches = inTurn(made, () -> Password.check(password, stored == null ? decoy : stored).with(made));
        if (stored == null || !matches) {
            return Check.NO_MATCH;
        }
        return made.equals(argon2) ? Check.MATCH : new Check(true, hashed(password));
    }

    /*
     * The Argon2 function a stored hash was made with, read from its PHC string by password4j; null when the text
     * is not an Argon2 hash (never written by this class: a damaged row).
     */
    private static Argon2Function costOf(String stored) {
        try {
            return Argon2Function.getInstanceFromHash(stored);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "a stored password hash is not an Argon2 PHC string: " + e.getMessage());
            return null;
        }
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

    private <T> T inTurn(Argon2Function cost, Supplier<T> hashing) {
        int kib = kib(cost);
        acquire(turns, kib, "too many password checks in progress; retry later");
        try {
            return hashing.get();
        } finally {
            turns.release(kib);
        }
    }

    private int kib(Argon2Function cost) {
        return Math.min(capacityKib, Math.max(1, cost.getMemory()));
    }

    /* Takes permits within the call's deadline (30 s at most), or answers UNAVAILABLE. */
    private static void acquire(Semaphore semaphore, int kib, String refusal) {
        Deadline deadline = Context.current().getDeadline();
        long wait = deadline == null
                    ? MAX_WAIT_NANOS
                    : Math.min(MAX_WAIT_NANOS, deadline.timeRemaining(TimeUnit.NANOSECONDS));
        try {
            if (!semaphore.tryAcquire(kib, Math.max(0, wait), TimeUnit.NANOSECONDS)) {
                throw Status.UNAVAILABLE.withDescription(refusal).asRuntimeException();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted while waiting to hash a password").asRuntimeException();
        }
    }

    /**
     * The outcome of a password check.
     *
     * @param matches  whether the password matches
     * @param upgraded a hash of it at the configured cost to store in place of the old one, or null when the stored
     *                 hash has that cost already (or the password does not match)
     */
    public record Check(boolean matches, String upgraded) {
        static final Check NO_MATCH = new Check(false, null);
        static final Check MATCH = new Check(true, null);
    }
}
