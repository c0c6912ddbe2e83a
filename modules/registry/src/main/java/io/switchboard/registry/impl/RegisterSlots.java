package io.switchboard.registry.impl;

import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/**
 * A limit on the Register calls one client has in flight at once, shared by all its registrations: calls beyond it
 * wait here, in the client, where waiting costs nothing, rather than as open streams on the hub. Thread safe.
 */
public final class RegisterSlots {
    private final Semaphore slots;

    /**
     * A limit of the given number of calls in flight.
     *
     * @param limit calls in flight at most, at least 1
     * @throws IllegalArgumentException when the limit is below 1
     */
    public RegisterSlots(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("register slot limit must be at least 1, got " + limit);
        }
        this.slots = new Semaphore(limit);
    }

    /**
     * Runs a call once a slot is free, and frees the slot when it returns or throws.
     *
     * @param call the call
     * @param <T>  its result
     * @return its result
     * @throws InterruptedException when interrupted while waiting for a slot
     */
    <T> T call(Supplier<T> call) throws InterruptedException {
        slots.acquire();
        try {
            return call.get();
        } finally {
            slots.release();
        }
    }
}
