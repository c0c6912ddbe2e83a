package io.switchboard.registry.impl;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.WatchRequest;
import io.switchboard.api.hub.v1.WatchResponse;
import io.switchboard.registry.ServiceEndpoints;
import io.switchboard.server.Backoff;

/**
 * A service's live instances (or every service's, for the empty name), fed by one Watch stream to the hub and resubscribed after every break.
 * <p>
 * Each (re)subscription starts with a snapshot that replaces the whole set, so nothing removed while the stream
 * was down survives; until that snapshot arrives the last known set stays in use. Thread safe: stream events and
 * reads are serialized on this object; listeners are called outside the lock, in order.
 */
final class ServiceWatch implements ServiceEndpoints, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ServiceWatch.class.getName());

    private final HubConnection hub;
    private final String service;
    private final ScheduledExecutorService scheduler;
    // the first retry lands anywhere in [0.25, 0.5] s: every client of a hub replica that stops resubscribes at the
    // same moment, and they should reach the other replica spread out, not as one crowd
    private final Backoff backoff = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(5));
    private final Map<String, Instance> current = new TreeMap<>();
    /* the parts of a snapshot received so far, from the current stream */
    private final Map<String, Instance> partial = new TreeMap<>();
    private final List<Consumer<List<Instance>>> listeners = new CopyOnWriteArrayList<>();
    private volatile List<Instance> instances = List.of();
    private volatile boolean synced;
    private volatile boolean closed;
    private Context.CancellableContext stream;
    private boolean broken;

    ServiceWatch(HubConnection hub, String service, ScheduledExecutorService scheduler) {
        this.hub = hub;
        this.service = service;
        this.scheduler = scheduler;
    }

    void start() {
        subscribe();
    }

    @Override
    public String service() {
        return service;
    }

    @Override
    public List<Instance> instances() {
        return instances;
    }

    @Override
    public boolean synced() {
        return synced;
    }

    @Override
    public AutoCloseable subscribe(Consumer<List<Instance>> listener) {
        listeners.add(listener);
        if (synced) {
            listener.accept(instances);
        }
        return () -> listeners.remove(listener);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (stream != null) {
            stream.cancel(null);
        }
    }

    private synchronized void subscribe() {
        if (closed) {
            return;
        }
        Context.CancellableContext context = Context.current().withCancellation();
        stream = context;
        partial.clear();
        context.run(() -> hub.async().watch(WatchRequest.newBuilder().setService(service).setAcceptParts(true).build(),
                                                    new Observer(context)));
    }

    private void apply(Context.CancellableContext from, WatchResponse response) {
        List<Instance> updated;
        synchronized (this) {
            if (from != stream) {
                return;
            }
            switch (response.getType()) {
            case SNAPSHOT -> {
                // a large snapshot comes in parts: it replaces what was known once its last part is here
                response.getInstancesList().forEach(i -> partial.put(key(i), i));
                if (response.getMore()) {
                    return;
                }
                current.clear();
                current.putAll(partial);
                partial.clear();
                synced = true;
                backoff.reset();
                if (broken) {
                    broken = false;
                    LOG.log(Level.INFO, "watch of " + name() + " resumed: " + current.size() + " instances");
                }
            }
            case PUT -> response.getInstancesList().forEach(i -> current.put(key(i), i));
            case DELETE -> response.getInstancesList().forEach(i -> current.remove(key(i)));
            default -> {
                return;
            }
            }
            updated = List.copyOf(current.values());
            instances = updated;
        }
        listeners.forEach(listener -> listener.accept(updated));
    }

    /* by service, then id: one service's instances come sorted by id, and the instances of every service by both */
    private static String key(Instance instance) {
        return instance.getService() + "/" + instance.getId();
    }

    private String name() {
        return service.isEmpty() ? "every service" : service;
    }

    private void broken(Context.CancellableContext from, Status status) {
        long delay;
        synchronized (this) {
            if (closed || from != stream) {
                return;
            }
            stream = null;
            if (!broken) {
                broken = true;
                LOG.log(Level.WARNING, "watch of " + name() + " interrupted (" + HubConnection.describe(status)
                                       + "); keeping " + current.size() + " last known instances, resubscribing");
            }
            delay = backoff.nextMillis();
        }
        from.cancel(null);
        hub.reconnectNow();
        scheduler.schedule((Runnable) this::subscribe, delay, TimeUnit.MILLISECONDS);
    }

    private final class Observer implements StreamObserver<WatchResponse> {
        private final Context.CancellableContext context;

        private Observer(Context.CancellableContext context) {
            this.context = context;
        }

        @Override
        public void onNext(WatchResponse response) {
            apply(context, response);
        }

        @Override
        public void onError(Throwable error) {
            broken(context, Status.fromThrowable(error));
        }

        @Override
        public void onCompleted() {
            broken(context, Status.UNAVAILABLE.withDescription("the hub ended the stream"));
        }
    }
}
