package io.switchboard.user;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import io.grpc.protobuf.StatusProto;

/**
 * Brute-force protection that a third party cannot turn against an account's owner. Two rules, both answered
 * RESOURCE_EXHAUSTED with a {@code google.rpc.RetryInfo} saying when to retry (the gateway's {@code Retry-After}):
 * <ul>
 *     <li><b>Per number and client address:</b> after {@code maxFailures} failed logins from one address, that
 *     address waits before its next try, 1 s and then twice as long after each further failure, at most
 *     {@code window}; the count starts over after {@code window} without a failure, and a success clears it. An
 *     attacker at one address gets a handful of guesses; the owner, at another address, is not held up at all.
 *     (The gateway counts an IPv6 client by its /64.)</li>
 *     <li><b>Per number, from every address:</b> once {@code accountFailures} logins failed with no gap of
 *     {@code window} between them, the number takes one try per {@code accountInterval}, from whichever address
 *     comes first. Guessing from many addresses slows to that pace; the owner gets one of the tries, so they wait
 *     about that interval, unless an attacker takes every try the moment it opens, from ever new addresses that each
 *     fail only a handful of times: a slowdown, not a lockout, though not one a determined attacker cannot stretch.
 *     Successes do not lift it: only time does.</li>
 * </ul>
 * In memory, per instance (at most {@value #MAX_TRACKED} numbers and pairs each, the oldest forgotten first when
 * full). With several user instances each counts its own share; keeping the counts in the database would cost a
 * write per failed login, which is what a flood is made of. The gateway's per-address limit bounds the rate in front.
 * Thread safe.
 */
final class LoginLimiter {
    static final int MAX_TRACKED = 100_000;
    private static final long FIRST_BACKOFF = Duration.ofSeconds(1).toNanos();

    private final int maxFailures;
    private final long windowNanos;
    private final int accountFailures;
    private final long accountIntervalNanos;
    private final LongSupplier clock;
    private final Map<String, Failures> pairs = new ConcurrentHashMap<>();
    private final Map<String, Failures> accounts = new ConcurrentHashMap<>();

    LoginLimiter(int maxFailures, Duration window, int accountFailures, Duration accountInterval) {
        this(maxFailures, window, accountFailures, accountInterval, System::nanoTime);
    }

    LoginLimiter(int maxFailures, Duration window, int accountFailures, Duration accountInterval, LongSupplier clock) {
        if (maxFailures < 1 || accountFailures < 1 || !window.isPositive() || !accountInterval.isPositive()) {
            throw new IllegalArgumentException("user.login: max-failures and account-failures must be at least 1, "
                                               + "window and account-interval positive");
        }
        this.maxFailures = maxFailures;
        this.windowNanos = window.toNanos();
        this.accountFailures = accountFailures;
        this.accountIntervalNanos = accountInterval.toNanos();
        this.clock = clock;
    }

    /**
     * Refuses a try that must wait; takes the number's one try of the interval when it is slowed down.
     *
     * @param phoneNumber normalized number
     * @param client      the client's address
     */
    void check(String phoneNumber, String client) {
        long now = clock.getAsLong();
        Failures pair = pairs.get(key(phoneNumber, client));
        if (pair != null && pair.count >= maxFailures && now - pair.last < windowNanos) {
            long until = pair.last + backoff(pair.count);
            if (now < until) {
                throw refusal("too many failed logins for this phone number from this address", until - now);
            }
        }
        long[] wait = {0};
        accounts.computeIfPresent(phoneNumber, (number, account) -> {
            if (account.count < accountFailures || now - account.last >= windowNanos) {
                return account;
            }
            if (now < account.nextTry) {
                wait[0] = account.nextTry - now;
                return account;
            }
            return new Failures(account.count, account.last, now + accountIntervalNanos);
        });
        if (wait[0] > 0) {
            throw refusal("too many failed logins for this phone number", wait[0]);
        }
    }

    void failed(String phoneNumber, String client) {
        long now = clock.getAsLong();
        count(pairs, key(phoneNumber, client), now);
        count(accounts, phoneNumber, now);
    }

    void succeeded(String phoneNumber, String client) {
        pairs.remove(key(phoneNumber, client));
    }

    /* 1 s after the maxFailures-th failure, doubling with each one after, at most the window */
    private long backoff(int count) {
        // 1e9 << 33 still fits a long; << 34 would not
        int doublings = Math.min(count - maxFailures, 33);
        return Math.min(windowNanos, FIRST_BACKOFF << doublings);
    }

    /** Numbers and number-address pairs counted now (each at most {@value #MAX_TRACKED}). */
    int tracked() {
        return Math.max(pairs.size(), accounts.size());
    }

    private void count(Map<String, Failures> failures, String key, long now) {
        if (failures.size() >= MAX_TRACKED) {
            failures.values().removeIf(f -> now - f.last >= windowNanos);
            if (failures.size() >= MAX_TRACKED) {
                failures.entrySet().stream().min((a, b) -> Long.compare(a.getValue().last, b.getValue().last))
                        .ifPresent(oldest -> failures.remove(oldest.getKey()));
            }
        }
        failures.compute(key, (k, previous) -> previous == null || now - previous.last >= windowNanos
                ? new Failures(1, now, now)
                : new Failures(previous.count + 1, now, previous.nextTry));
    }

    private static String key(String phoneNumber, String client) {
        return phoneNumber + " " + client;
    }

    private static RuntimeException refusal(String message, long waitNanos) {
        long retryIn = Math.max(1, (waitNanos + 999_999_999) / 1_000_000_000);
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(Code.RESOURCE_EXHAUSTED.getNumber())
                .setMessage(message + "; retry in " + retryIn + " s")
                .addDetails(Any.pack(RetryInfo.newBuilder()
                                             .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(retryIn))
                                             .build()))
                .build());
    }

    /* failures in the window, the last one's time, and (for a number) when its next try may come */
    private record Failures(int count, long last, long nextTry) {
    }
}
