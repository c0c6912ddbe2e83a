package io.switchboard.hub.view;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.hub.InstanceRecords;
import io.switchboard.hub.etcd.EtcdStore;

/**
 * The hub's in-memory view of every instance record, kept by one etcd watch on the whole prefix, and the
 * subscribers it serves.
 * <p>
 * However many clients watch, etcd sees one watch per hub replica. A new subscriber's snapshot comes from memory.
 * When the etcd watch ends for good (its revision was compacted, or etcd came back with other data), the view is
 * rebuilt from a range read and every subscriber gets a fresh snapshot, so removals that happened meanwhile are
 * never missed. Until the first read succeeds the view is not synced, and subscribers wait for their snapshot
 * rather than receive an empty one that would wipe what they know. Thread safe: changes and subscriptions are
 * serialized by one lock, so a subscriber sees its snapshot and then every later change exactly once, in order.
 */
public final class InstanceView implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(InstanceView.class.getName());
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final EtcdStore store;
    private final int queueCapacity;
    private final Object lock = new Object();
    private final Map<String, Map<String, ViewEntry>> services = new TreeMap<>();
    private final Map<String, Set<Subscription>> subscribers = new ConcurrentHashMap<>();
    private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
    private long revision;
    private long generation;
    private boolean synced;
    private Watch.Watcher watcher;
    private volatile boolean closed;
    private final Thread rebuilder;
    private final Object rebuildSignal = new Object();
    private boolean rebuildRequested = true;

    private InstanceView(EtcdStore store, int queueCapacity) {
        this.store = store;
        this.queueCapacity = queueCapacity;
        this.rebuilder = Thread.ofVirtual().name("view-rebuild").unstarted(this::rebuildLoop);
    }

    /**
     * Starts following etcd. Returns at once; the view syncs as soon as etcd answers.
     *
     * @param store         etcd
     * @param queueCapacity messages a subscriber may have queued before it is closed as too slow
     * @return the view
     */
    public static InstanceView start(EtcdStore store, int queueCapacity) {
        InstanceView view = new InstanceView(store, queueCapacity);
        store.onReconnect(view::resync);
        view.rebuilder.start();
        return view;
    }

    /**
     * Whether the view reflects etcd (it has read it at least once since the last rebuild was needed).
     *
     * @return true when synced
     */
    public boolean synced() {
        synchronized (lock) {
            return synced;
        }
    }

    /**
     * Number of instances in the view.
     *
     * @return instance count
     */
    public int size() {
        synchronized (lock) {
            return services.values().stream().mapToInt(Map::size).sum();
        }
    }

    /**
     * Number of open Watch streams.
     *
     * @return subscriber count
     */
    public int subscriberCount() {
        return subscribers.values().stream().mapToInt(Set::size).sum();
    }

    /**
     * Everything in the view at one revision, sorted by service and instance id.
     *
     * @return a copy
     */
    public Contents contents() {
        synchronized (lock) {
            List<ViewEntry> entries = new ArrayList<>();
            services.values().forEach(m -> entries.addAll(m.values()));
            return new Contents(entries, revision, synced);
        }
    }

    /**
     * Runs a listener after every change of the view (an instance put or removed, a rebuild, a loss of sync).
     *
     * @param listener runs under the view's lock: it must return at once (signal another thread, never block)
     */
    public void onChange(Runnable listener) {
        changeListeners.add(listener);
    }

    /**
     * Subscribes a Watch stream: its snapshot now (or as soon as the view syncs), then every change.
     *
     * @param service  service to watch, empty for all
     * @param observer the stream
     */
    public void subscribe(String service, ServerCallStreamObserver<io.switchboard.api.hub.v1.WatchResponse> observer) {
        Set<Subscription> set = subscribers.computeIfAbsent(service, s -> ConcurrentHashMap.newKeySet());
        Subscription[] holder = new Subscription[1];
        Subscription subscription = new Subscription(service, observer, queueCapacity, () -> set.remove(holder[0]));
        holder[0] = subscription;
        synchronized (lock) {
            if (closed) {
                observer.onError(Status.UNAVAILABLE.withDescription("hub shutting down").asRuntimeException());
                return;
            }
            set.add(subscription);
            subscription.start();
            if (synced) {
                subscription.offer(snapshot(service));
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        rebuilder.interrupt();
        synchronized (lock) {
            if (watcher != null) {
                watcher.close();
            }
        }
        subscribers.values().forEach(set -> List.copyOf(set).forEach(
                s -> s.end(Status.UNAVAILABLE.withDescription("hub shutting down; watch through another replica"))));
    }

    private void rebuildLoop() {
        long backoff = 100;
        while (!closed) {
            synchronized (rebuildSignal) {
                while (!rebuildRequested) {
                    try {
                        rebuildSignal.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                rebuildRequested = false;
            }
            while (!closed) {
                try {
                    rebuild();
                    backoff = 100;
                    break;
                } catch (RuntimeException e) {
                    LOG.log(Level.DEBUG, "view rebuild failed: " + e.getMessage());
                    try {
                        Thread.sleep(backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
                    } catch (InterruptedException ie) {
                        return;
                    }
                    backoff = Math.min(backoff * 2, MAX_BACKOFF.toMillis());
                }
            }
        }
    }

    /*
     * The etcd client was replaced, and its watch with it: read etcd again.
     */
    private void resync() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            synced = false;
            changed();
        }
        requestRebuild();
    }

    private void requestRebuild() {
        synchronized (rebuildSignal) {
            rebuildRequested = true;
            rebuildSignal.notifyAll();
        }
    }

    private void rebuild() {
        EtcdStore.Range range = store.range(EtcdStore.PREFIX, false);
        synchronized (lock) {
            if (watcher != null) {
                watcher.close();
            }
            services.clear();
            for (KeyValue kv : range.kvs()) {
                entry(kv).ifPresent(entry -> services.computeIfAbsent(entry.instance().getService(), s -> new TreeMap<>())
                        .put(entry.instance().getId(), entry));
            }
            revision = range.revision();
            synced = true;
            subscribers.forEach((service, set) -> {
                if (!set.isEmpty()) {
                    io.switchboard.api.hub.v1.WatchResponse snapshot = snapshot(service);
                    set.forEach(s -> s.offer(snapshot));
                }
            });
            changed();
            long current = ++generation;
            watcher = store.watchClient().watch(EtcdStore.bytes(EtcdStore.PREFIX),
                                                WatchOption.builder()
                                                        .isPrefix(true)
                                                        .withRevision(revision + 1)
                                                        .build(),
                                                Watch.listener(response -> onWatch(current, response),
                                                              error -> onWatchError(current, error)));
        }
        LOG.log(Level.INFO, "view synced from etcd: " + range.kvs().size() + " instances at revision " + range.revision());
    }

    private void onWatch(long generation, WatchResponse response) {
        synchronized (lock) {
            if (generation != this.generation) {
                return;
            }
            for (WatchEvent event : response.getEvents()) {
                KeyValue kv = event.getKeyValue();
                // events of one transaction share a revision: only older ones are stale
                if (kv.getModRevision() < revision) {
                    continue;
                }
                revision = kv.getModRevision();
                String key = key(kv);
                switch (event.getEventType()) {
                case PUT -> entry(kv).ifPresent(this::put);
                case DELETE -> InstanceRecords.idOf(key).ifPresent(id -> remove(id.service(), id.id()));
                default -> { }
                }
            }
        }
    }

    private void onWatchError(long generation, Throwable error) {
        synchronized (lock) {
            // one line and one rebuild per interruption, however often jetcd retries meanwhile
            if (closed || generation != this.generation || !synced) {
                return;
            }
            synced = false;
            changed();
        }
        // jetcd would resume a watch after a transient error by itself, but a rebuild is always correct (a
        // compacted revision, or an etcd that came back with other data, cannot be resumed) and it is rare.
        LOG.log(Level.WARNING, "etcd watch interrupted (" + error.getMessage() + "); rebuilding the view when etcd answers");
        requestRebuild();
    }

    private void put(ViewEntry entry) {
        Instance instance = entry.instance();
        services.computeIfAbsent(instance.getService(), s -> new TreeMap<>()).put(instance.getId(), entry);
        publish(instance.getService(), change(io.switchboard.api.hub.v1.WatchResponse.Type.PUT, instance));
        changed();
    }

    private void remove(String service, String id) {
        Map<String, ViewEntry> instances = services.get(service);
        if (instances == null || instances.remove(id) == null) {
            return;
        }
        if (instances.isEmpty()) {
            services.remove(service);
        }
        publish(service, change(io.switchboard.api.hub.v1.WatchResponse.Type.DELETE,
                                Instance.newBuilder().setService(service).setId(id).build()));
        changed();
    }

    private void changed() {
        changeListeners.forEach(Runnable::run);
    }

    private io.switchboard.api.hub.v1.WatchResponse change(io.switchboard.api.hub.v1.WatchResponse.Type type,
                                                           Instance instance) {
        return io.switchboard.api.hub.v1.WatchResponse.newBuilder()
                .setType(type)
                .setRevision(revision)
                .addInstances(instance)
                .build();
    }

    private void publish(String service, io.switchboard.api.hub.v1.WatchResponse message) {
        for (String key : new String[] {service, ""}) {
            Set<Subscription> set = subscribers.get(key);
            if (set != null) {
                set.forEach(s -> s.offer(message));
            }
        }
    }

    private io.switchboard.api.hub.v1.WatchResponse snapshot(String service) {
        List<Instance> instances = new ArrayList<>();
        if (service.isEmpty()) {
            services.values().forEach(m -> m.values().forEach(e -> instances.add(e.instance())));
        } else {
            services.getOrDefault(service, Map.of()).values().forEach(e -> instances.add(e.instance()));
        }
        return io.switchboard.api.hub.v1.WatchResponse.newBuilder()
                .setType(io.switchboard.api.hub.v1.WatchResponse.Type.SNAPSHOT)
                .setRevision(revision)
                .addAllInstances(instances)
                .build();
    }

    private static Optional<ViewEntry> entry(KeyValue kv) {
        return InstanceRecords.read(key(kv), kv.getValue().getBytes())
                .map(stored -> new ViewEntry(stored.instance(), kv.getLease(), stored.registeredAt()));
    }

    private static String key(KeyValue kv) {
        return kv.getKey().toString(StandardCharsets.UTF_8);
    }

    /**
     * The view at one revision.
     *
     * @param entries every instance, sorted by service and instance id
     * @param revision the etcd revision the view reflects
     * @param synced   whether the view follows etcd right now (false while it waits to be rebuilt)
     */
    public record Contents(List<ViewEntry> entries, long revision, boolean synced) {
    }
}
