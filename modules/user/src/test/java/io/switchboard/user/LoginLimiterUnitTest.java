package io.switchboard.user;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoginLimiterUnitTest {
    private static final String VICTIM = "+4470000001";
    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);
    private final LoginLimiter limiter = new LoginLimiter(3, Duration.ofMinutes(5), 10, Duration.ofSeconds(2), now::get);

    @Test
    void anAddressThatKeepsFailingWaitsLongerEachTimeAndTheOwnerElsewhereDoesNot() {
        for (int i = 0; i < 3; i++) {
            allowed("198.51.100.1");
            limiter.failed(VICTIM, "198.51.100.1");
        }
        // the third failure: 1 s
        assertRefused("198.51.100.1", 1, "from this address");
        allowed("203.0.113.5");
        advance(Duration.ofMillis(1001));
        allowed("198.51.100.1");
        limiter.failed(VICTIM, "198.51.100.1");
        // the fourth: 2 s, then 4 s after the fifth
        assertRefused("198.51.100.1", 2, "from this address");
        advance(Duration.ofMillis(2001));
        limiter.failed(VICTIM, "198.51.100.1");
        assertRefused("198.51.100.1", 4, "from this address");
        // never longer than the window
        for (int i = 0; i < 20; i++) {
            limiter.failed(VICTIM, "198.51.100.2");
        }
        assertRefused("198.51.100.2", 300, "from this address");
        // and forgotten after it
        advance(Duration.ofMinutes(5));
        allowed("198.51.100.2");
    }

    @Test
    void aLongRunOfFailuresNeverWrapsTheWaitAround() {
        for (int i = 0; i < 200; i++) {
            limiter.failed(VICTIM, "198.51.100.3");
        }
        assertRefused("198.51.100.3", 300, "from this address");
    }

    @Test
    void aSuccessClearsItsAddressesFailures() {
        for (int i = 0; i < 2; i++) {
            limiter.failed(VICTIM, "198.51.100.1");
        }
        limiter.succeeded(VICTIM, "198.51.100.1");
        for (int i = 0; i < 2; i++) {
            limiter.failed(VICTIM, "198.51.100.1");
        }
        allowed("198.51.100.1");
    }

    @Test
    void guessingFromManyAddressesSlowsTheNumberToOneTryPerIntervalAndTheOwnerStillGetsIn() {
        for (int i = 0; i < 10; i++) {
            allowed("198.51.100." + i);
            limiter.failed(VICTIM, "198.51.100." + i);
        }
        // the number now takes one try per 2 s, from whichever address: the owner's from a new one is it
        allowed("203.0.113.5");
        assertRefused("198.51.100.77", 2, "for this phone number;");
        advance(Duration.ofMillis(1500));
        assertRefused("203.0.113.5", 1, "for this phone number;");
        advance(Duration.ofMillis(500));
        allowed("203.0.113.5");
        // other numbers are not slowed
        assertThatCode(() -> limiter.check("+4470000002", "198.51.100.1")).doesNotThrowAnyException();
        // a success does not lift it: only the window does
        limiter.succeeded(VICTIM, "203.0.113.5");
        assertRefused("198.51.100.78", 2, "for this phone number;");
        advance(Duration.ofMinutes(5));
        allowed("198.51.100.78");
        allowed("198.51.100.79");
    }

    @Test
    void memoryIsBounded() {
        for (int i = 0; i < LoginLimiter.MAX_TRACKED + 10; i++) {
            limiter.failed("+44" + (700_000_000 + i), "198.51.100.1");
            now.addAndGet(1);
        }
        assertThat(limiter.tracked()).isEqualTo(LoginLimiter.MAX_TRACKED);
        // full: the oldest entries make room, and the newest number still counts
        limiter.failed("+44" + (700_000_000 + LoginLimiter.MAX_TRACKED + 9), "198.51.100.1");
        limiter.failed("+44" + (700_000_000 + LoginLimiter.MAX_TRACKED + 9), "198.51.100.1");
        assertThatThrownBy(() -> limiter.check("+44" + (700_000_000 + LoginLimiter.MAX_TRACKED + 9), "198.51.100.1"))
                .isInstanceOf(StatusRuntimeException.class);
    }

    @Test
    void nonsenseSettingsAreRefused() {
        assertThatThrownBy(() -> new LoginLimiter(0, Duration.ofMinutes(5), 20, Duration.ofSeconds(2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("user.login");
        assertThatThrownBy(() -> new LoginLimiter(5, Duration.ZERO, 20, Duration.ofSeconds(2)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private void allowed(String client) {
        assertThatCode(() -> limiter.check(VICTIM, client)).as(client).doesNotThrowAnyException();
    }

    private void assertRefused(String client, long seconds, String message) {
        assertThatThrownBy(() -> limiter.check(VICTIM, client)).as(client)
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                    assertThat(e.getStatus().getDescription()).contains(message).endsWith("retry in " + seconds + " s");
                });
    }

    private void advance(Duration duration) {
        now.addAndGet(duration.toNanos());
    }
}
