package io.switchboard.user.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PasswordsUnitTest {
    private static final long MIB = 1024 * 1024;

    @Test
    void hashesAtOnceTakeAtMostHalfTheHeap() {
        assertThat(Passwords.concurrentHashes(128 * MIB, 19 * 1024)).isEqualTo(3);
        assertThat(Passwords.concurrentHashes(192 * MIB, 19 * 1024)).isEqualTo(5);
        assertThat(Passwords.concurrentHashes(4096 * MIB, 19 * 1024)).isEqualTo(107);
    }

    @Test
    void oneHashAlwaysRunsEvenWhenHalfTheHeapHoldsNone() {
        assertThat(Passwords.concurrentHashes(16 * MIB, 19 * 1024)).isEqualTo(1);
    }

    @Test
    void hashesMatchOnlyTheirPassword() {
        Passwords passwords = new Passwords(1024, 1);
        String stored = passwords.hash("correct horse");
        assertThat(passwords.matches("correct horse", stored)).isTrue();
        assertThat(passwords.matches("wrong horse", stored)).isFalse();
        assertThat(passwords.matches("correct horse", null)).isFalse();
    }
}
