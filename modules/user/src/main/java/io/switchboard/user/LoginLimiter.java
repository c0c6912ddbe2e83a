package io.switchboard.user;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import io.grpc.protobuf.StatusProto;

/**
 * Brute-force protection: after {@code maxFailures} failed logins for one phone number within {@code window},
 * that number is refused with RESOURCE_EXHAUSTED, and a {@code google.rpc.RetryInfo} saying when, until the window
 * has passed. A success clears the count.
 * In memory, per instance: with several user instances an attacker gets {@code maxFailures} per instance, and the
 * gateway's per-address limit bounds the rate in front. Thread safe.
 */
final class LoginLimiter {
    private static final int MAX_TRACKED = 100_000;

    private final int maxFailures;
    private final long windowNanos;
    private final Map<String, Failures> failures = new ConcurrentHashMap<>();

    LoginLimiter(int maxFailures, Duration window) {
        this.maxFailures = maxFailures;
        this.windowNanos = window.toNanos();
    }

    /**
     * Refuses a number that failed too often recently.
     *
     * @param phoneNumber normalized number
     */
    void check(String phoneNumber) {
        Failures current = failures.get(phoneNumber);
        long now = System.nanoTime();
        if (current != null && current.count >= maxFailures && now - current.since < windowNanos) {
            long retryIn = Math.max(1, Duration.ofNanos(windowNanos - (now - current.since)).toSeconds());
            // the delay also goes in the standard RetryInfo detail, from which the gateway sets Retry-After
            throw StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                    .setCode(Code.RESOURCE_EXHAUSTED.getNumber())
                    .setMessage("too many failed logins for this phone number; retry in " + retryIn + " s")
                    .addDetails(Any.pack(RetryInfo.newBuilder()
                                                 .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(retryIn))
                                                 .build()))
                    .build());
        }
    }

    void failed(String phoneNumber) {
        long now = System.nanoTime();
        if (failures.size() >= MAX_TRACKED) {
            failures.values().removeIf(f -> now - f.since >= windowNanos);
        }
        failures.compute(phoneNumber, (number, previous) -> previous == null || now - previous.since >= windowNanos
                ? new Failures(1, now)
                : new Failures(previous.count + 1, previous.since));
    }

    void succeeded(String phoneNumber) {
        failures.remove(phoneNumber);
    }

    private record Failures(int count, long since) {
    }
}
