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
        assertThat(passwords.check("correct horse", stored).matches()).isTrue();
        assertThat(passwords.check("wrong horse", stored).matches()).isFalse();
        assertThat(passwords.check("correct horse", null).matches()).isFalse();
    }

    @Test
    void aHashIsCheckedWithItsOwnCostAndUpgradedToTheConfiguredOne() {
        String stored = new Passwords(1024, 1).hash("correct horse");
        Passwords changed = new Passwords(2048, 2);

        Passwords.Check check = changed.check("correct horse", stored);
        assertThat(check.matches()).isTrue();
        assertThat(check.upgraded()).startsWith("$argon2id$v=19$m=2048,t=2,p=1$");
        assertThat(changed.check("correct horse", check.upgraded())).isEqualTo(new Passwords.Check(true, null));
        assertThat(changed.check("wrong horse", stored)).isEqualTo(new Passwords.Check(false, null));
    }

    @Test
    void aStoredTextThatIsNoArgon2HashMatchesNothing() {
        assertThat(new Passwords(1024, 1).check("correct horse", "$2b$10$notanargon2hash").matches()).isFalse();
    }
}
