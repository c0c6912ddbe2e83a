package io.switchboard.user.accounts;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;
import io.grpc.Status;

/**
 * Password policy and hashing: Argon2id (OWASP's minimum: 19 MiB, 2 iterations, 1 lane) with a random 16-byte
 * salt, stored in the PHC string format. Only hashes are ever stored. Thread safe.
 */
public final class Passwords {
    /** Shortest password, in characters. */
    public static final int MIN_LENGTH = 8;
    /** Longest password, in characters: Argon2 costs grow with it, so it is bounded. */
    public static final int MAX_LENGTH = 128;

    private final Argon2Function argon2;
    private final String decoy;

    /**
     * Hashing with the given Argon2id cost.
     *
     * @param memoryKib  memory per hash, KiB
     * @param iterations passes over the memory
     */
    public Passwords(int memoryKib, int iterations) {
        this.argon2 = Argon2Function.getInstance(memoryKib, iterations, 1, 32, Argon2.ID);
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
        return Password.hash(password).addRandomSalt(16).with(argon2).getResult();
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
        boolean matches = Password.check(password, stored == null ? decoy : stored).with(argon2);
        return stored != null && matches;
    }
}
