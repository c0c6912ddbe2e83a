package io.switchboard.user.accounts;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

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
    void aFloodOfRegistrationsLeavesLoginsHalfTheHashingCapacity() throws Exception {
        // four hashes at once, as a heap of about 160 MiB holds at OWASP's cost
        Passwords passwords = new Passwords(19 * 1024, 2, 4);
        String stored = passwords.hash("correct horse");
        AtomicInteger registered = new AtomicInteger();
        // platform threads: each registration reaches its wait for a turn at once, as calls on many cores do
        try (ExecutorService flood = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().factory())) {
            for (int i = 0; i < 24; i++) {
                String password = "new account " + i;
                flood.submit(() -> {
                    passwords.hash(password);
                    registered.incrementAndGet();
                });
            }
            Thread.sleep(200);
            assertThat(passwords.check("correct horse", stored).matches()).isTrue();
            // in one queue with them, the login would have waited for about 20 of the 24
            assertThat(registered.get()).as("registrations done when the login was answered").isLessThan(12);
        }
        assertThat(registered.get()).isEqualTo(24);
    }

    @Test
    void aStoredTextThatIsNoArgon2HashMatchesNothing() {
        assertThat(new Passwords(1024, 1).check("correct horse", "$2b$10$notanargon2hash").matches()).isFalse();
    }
}
