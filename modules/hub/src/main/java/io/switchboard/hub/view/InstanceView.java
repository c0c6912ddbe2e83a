package io.switchboard.hub.view;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.WatchResponse;
import io.switchboard.hub.etcd.EtcdStore;
import io.switchboard.hub.etcd.InstanceRecord;
import io.switchboard.hub.etcd.RecordChange;

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

    private final EtcdStore store;
    private final int queueCapacity;
    /** About the size of one part of a snapshot: a quarter of grpc-java's default largest message (4 MiB). */
    private static final int SNAPSHOT_PART_BYTES = 1024 * 1024;
    private final Object lock = new Object();
    private final Map<String, Map<String, InstanceRecord>> services = new TreeMap<>();
    /* the service of each lease's record: whose lease it is, for the hub's authorisation */
    private final Map<Long, String> leaseServices = new HashMap<>();
    private final Map<String, Set<Subscription>> subscribers = new ConcurrentHashMap<>();
    private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
    private long revision;
    private long generation;
    private boolean synced;
    private EtcdStore.RecordWatch watch;
    private volatile boolean closed;
    private final RebuildLoop rebuilder;

    private InstanceView(EtcdStore store, int queueCapacity) {
        this.store = store;
        this.queueCapacity = queueCapacity;
        this.rebuilder = new RebuildLoop("view-rebuild", this::rebuild);
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
     * The service whose record a lease holds, as this view knows it (it follows etcd by milliseconds).
     *
     * @param leaseId lease
     * @return the service, empty when the view knows no record of that lease
     */
    public Optional<String> serviceOf(long leaseId) {
        synchronized (lock) {
            return Optional.ofNullable(leaseServices.get(leaseId));
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
     * Number of instances of one service in the view.
     *
     * @param service the service
     * @return its instance count
     */
    public int instanceCount(String service) {
        synchronized (lock) {
            Map<String, InstanceRecord> instances = services.get(service);
            return instances == null ? 0 : instances.size();
        }
    }

    /**
     * Whether the view holds an instance.
     *
     * @param service its service
     * @param id      its id
     * @return whether it is there
     */
    public boolean holds(String service, String id) {
        synchronized (lock) {
            Map<String, InstanceRecord> instances = services.get(service);
            return instances != null && instances.containsKey(id);
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
            List<InstanceRecord> entries = new ArrayList<>();
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
     * @param parts    whether the subscriber takes a large snapshot in parts ({@code WatchResponse.more})
     * @param observer the stream
     * @param ended    run once when the stream ends (at once when the view is closed)
     */
    public void subscribe(String service, boolean parts, ServerCallStreamObserver<WatchResponse> observer,
                          Runnable ended) {
        Set<Subscription> set = subscribers.computeIfAbsent(service, s -> ConcurrentHashMap.newKeySet());
        Subscription subscription = new Subscription(service, parts, observer, queueCapacity, s -> {
            set.remove(s);
            ended.run();
        });
        synchronized (lock) {
            if (closed) {
                observer.onError(Status.UNAVAILABLE.withDescription("hub shutting down").asRuntimeException());
                ended.run();
                return;
            }
            set.add(subscription);
            subscription.start();
            if (synced) {
                snapshot(service, parts).forEach(subscription::offer);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        rebuilder.close();
        synchronized (lock) {
            if (watch != null) {
                watch.close();
            }
        }
        subscribers.values().forEach(set -> List.copyOf(set).forEach(
                s -> s.end(Status.UNAVAILABLE.withDescription("hub shutting down; watch through another replica"))));
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
        rebuilder.request();
    }

    private void rebuild() {
        EtcdStore.Records read = store.records("");
        synchronized (lock) {
            if (watch != null) {
                watch.close();
            }
            services.clear();
            leaseServices.clear();
            read.records().forEach(record -> {
                services.computeIfAbsent(record.instance().getService(), s -> new TreeMap<>())
                        .put(record.instance().getId(), record);
                leaseServices.put(record.leaseId(), record.instance().getService());
            });
            revision = read.revision();
            synced = true;
            subscribers.forEach((service, set) -> {
                if (!set.isEmpty()) {
                    List<WatchResponse> inParts = snapshot(service, true);
                    // the whole in one message only when a subscriber older than parts needs it
                    List<WatchResponse> whole = inParts.size() == 1 || set.stream().allMatch(Subscription::parts)
                            ? inParts : snapshot(service, false);
                    set.forEach(s -> (s.parts() ? inParts : whole).forEach(s::offer));
                }
            });
            changed();
            long current = ++generation;
            watch = store.watch(revision + 1, changes -> onChanges(current, changes), error -> onWatchError(current, error));
        }
        LOG.log(Level.INFO, "view synced from etcd: " + read.records().size() + " instances at revision " + read.revision());
    }

    private void onChanges(long generation, List<RecordChange> changes) {
        synchronized (lock) {
            if (generation != this.generation) {
                return;
            }
            for (RecordChange change : changes) {
                // changes of one transaction share a revision: only older ones are stale
                if (change.revision() < revision) {
                    continue;
                }
                revision = change.revision();
                switch (change) {
                case RecordChange.Put put -> put(put.record());
                case RecordChange.Delete delete -> remove(delete.service(), delete.id());
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
        rebuilder.request();
    }

    private void put(InstanceRecord record) {
        Instance instance = record.instance();
        InstanceRecord replaced = services.computeIfAbsent(instance.getService(), s -> new TreeMap<>())
                .put(instance.getId(), record);
        if (replaced != null) {
            leaseServices.remove(replaced.leaseId());
        }
        leaseServices.put(record.leaseId(), instance.getService());
        publish(instance.getService(), change(WatchResponse.Type.PUT, instance));
        changed();
    }

    private void remove(String service, String id) {
        Map<String, InstanceRecord> instances = services.get(service);
        InstanceRecord removed = instances == null ? null : instances.remove(id);
        if (removed == null) {
            return;
        }
        leaseServices.remove(removed.leaseId());
        if (instances.isEmpty()) {
            services.remove(service);
        }
        publish(service, change(WatchResponse.Type.DELETE,
                                Instance.newBuilder().setService(service).setId(id).build()));
        changed();
    }

    private void changed() {
        changeListeners.forEach(Runnable::run);
    }

    private WatchResponse change(WatchResponse.Type type,
                                                           Instance instance) {
        return WatchResponse.newBuilder()
                .setType(type)
                .setRevision(revision)
                .addInstances(instance)
                .build();
    }

    private void publish(String service, WatchResponse message) {
        for (String key : new String[] {service, ""}) {
            Set<Subscription> set = subscribers.get(key);
            if (set != null) {
                set.forEach(s -> s.offer(message));
            }
        }
    }

    /*
     * The snapshot of a service (of every service when empty): with parts, in parts of about SNAPSHOT_PART_BYTES,
     * every part but the last saying more follow (an empty view is one part); without, one message.
     */
    private List<WatchResponse> snapshot(String service, boolean inParts) {
        List<Instance> instances = new ArrayList<>();
        if (service.isEmpty()) {
            services.values().forEach(m -> m.values().forEach(e -> instances.add(e.instance())));
        } else {
            services.getOrDefault(service, Map.of()).values().forEach(e -> instances.add(e.instance()));
        }
        List<WatchResponse> parts = new ArrayList<>();
        WatchResponse.Builder part = WatchResponse.newBuilder().setType(WatchResponse.Type.SNAPSHOT).setRevision(revision);
        int bytes = 0;
        for (Instance instance : instances) {
            int size = instance.getSerializedSize();
            if (inParts && part.getInstancesCount() > 0 && bytes + size > SNAPSHOT_PART_BYTES) {
                parts.add(part.setMore(true).build());
                part = WatchResponse.newBuilder().setType(WatchResponse.Type.SNAPSHOT).setRevision(revision);
                bytes = 0;
            }
            part.addInstances(instance);
            bytes += size + 4;
        }
        parts.add(part.build());
        return parts;
    }

    /**
     * The view at one revision.
     *
     * @param entries every instance, sorted by service and instance id
     * @param revision the etcd revision the view reflects
     * @param synced   whether the view follows etcd right now (false while it waits to be rebuilt)
     */
    public record Contents(List<InstanceRecord> entries, long revision, boolean synced) {
    }
}
