package io.switchboard.bench.scale;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.switchboard.api.hub.v1.GetServiceRequest;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.WatchRequest;
import io.switchboard.api.hub.v1.WatchResponse;
import io.switchboard.registry.Registration;
import io.switchboard.registry.client.RegistryClient;
import org.HdrHistogram.Histogram;

/**
 * The registry at scale, end to end: registers many instances through the real registry library and keeps them
 * alive, opens Watch subscribers through the library's discovery, churns registrations, measures snapshot and
 * propagation latency, then kills a hub replica and stops etcd, and checks after each step that no lease was lost
 * and every subscriber holds exactly what etcd holds. The benchmark and its smaller test run this same code.
 */
public final class Scenario {
    /** Instances each registry client of the scenario registers, as one process with many registrations would. */
    static final int INSTANCES_PER_CLIENT = 1000;
    /** Watch subscribers per discovering client. */
    static final int SUBSCRIBERS_PER_CLIENT = 10;
    /** Watches a snapshot measurement cancels on one connection before it opens another. */
    static final int RESETS_PER_CONNECTION = 20;

    // one line per registration and per retry, times ten thousand, would drown the figures: keep errors only
    private static final java.util.logging.Logger REGISTRY_LOG = java.util.logging.Logger.getLogger("io.switchboard.registry");

    private final ScaleCluster cluster;
    private final Settings settings;
    private final PrintStream out;
    private final List<RegistryClient> clients = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<HubGrpc.HubBlockingStub> hubs = new ArrayList<>();

    private Scenario(ScaleCluster cluster, Settings settings, PrintStream out) {
        this.cluster = cluster;
        this.settings = settings;
        this.out = out;
    }

    /**
     * Runs the whole scenario against a running cluster and prints each figure as it is measured.
     *
     * @param cluster  etcd and the hub replicas (two or more; replica 0 is killed)
     * @param settings sizes
     * @param out      where the figures go
     * @return the figures
     */
    public static Report run(ScaleCluster cluster, Settings settings, PrintStream out) {
        REGISTRY_LOG.setLevel(java.util.logging.Level.SEVERE);
        Scenario scenario = new Scenario(cluster, settings, out);
        try {
            return scenario.run();
        } finally {
            scenario.close();
        }
    }

    private Report run() {
        Report report = new Report();
        for (int i = 0; i < cluster.hubCount(); i++) {
            ManagedChannel channel = NettyChannelBuilder.forTarget(cluster.hubEndpoint(i)).usePlaintext().build();
            channels.add(channel);
            hubs.add(HubGrpc.newBlockingStub(channel));
        }
        report.watchersIdle = cluster.etcdMetric("etcd_debugging_mvcc_watcher_total");
        report.watchStreamsIdle = cluster.etcdMetric("etcd_debugging_mvcc_watch_stream_total");

        // registrations, through the library: one client per thousand instances, all calls spread over the hubs
        double cpuBefore = hubsCpuSeconds();
        double etcdCpuBefore = cluster.etcdCpuSeconds();
        long start = System.nanoTime();
        List<Registration> registrations = new ArrayList<>();
        int registering = (settings.instances + INSTANCES_PER_CLIENT - 1) / INSTANCES_PER_CLIENT;
        List<RegistryClient> registrars = newClients(registering);
        for (int i = 0; i < settings.instances; i++) {
            registrations.add(registrars.get(i % registering).register(instance(i), Duration.ofSeconds(settings.ttlSeconds)));
        }
        awaitTrue("all " + settings.instances + " registrations healthy", Duration.ofSeconds(120),
                  () -> registrations.stream().allMatch(Registration::healthy));
        report.registerSeconds = seconds(System.nanoTime() - start);
        out.printf("registered %d instances over %d services (TTL %d s, %d registry clients, both hubs) in %.1f s"
                   + " (CPU meanwhile: hubs %.1f s, etcd %.1f s)%n", settings.instances, settings.services,
                   settings.ttlSeconds, registering, report.registerSeconds, hubsCpuSeconds() - cpuBefore,
                   cluster.etcdCpuSeconds() - etcdCpuBefore);
        Map<Registration, Long> leases = leases(registrations);

        // subscribers, through the library's discovery: each client watches distinct services, over both hubs
        Map<String, List<Subscriber>> byService = new HashMap<>();
        List<Subscriber> subscribers = new ArrayList<>();
        Churn churn = new Churn(hubs, settings.services, settings.churnPerSecond, settings.ttlSeconds, byService);
        List<RegistryClient> watchers = newClients((settings.subscribers + SUBSCRIBERS_PER_CLIENT - 1) / SUBSCRIBERS_PER_CLIENT);
        for (int j = 0; j < settings.subscribers; j++) {
            Subscriber subscriber = new Subscriber(watchers.get(j / SUBSCRIBERS_PER_CLIENT).discovery()
                                                           .endpoints(serviceName(j % settings.services)), churn);
            subscribers.add(subscriber);
            byService.computeIfAbsent(subscriber.service(), s -> new ArrayList<>()).add(subscriber);
        }
        subscribers.forEach(Subscriber::start);
        awaitTrue("every subscriber holds its service's instances", Duration.ofSeconds(60),
                  () -> converged(subscribers, 0));
        report.watchers = cluster.etcdMetric("etcd_debugging_mvcc_watcher_total");
        report.watchStreams = cluster.etcdMetric("etcd_debugging_mvcc_watch_stream_total");
        out.printf("etcd watchers / watch streams: %.0f / %.0f before any subscriber, %.0f / %.0f with %d subscribers"
                   + " (%d hub replicas)%n", report.watchersIdle, report.watchStreamsIdle, report.watchers,
                   report.watchStreams, settings.subscribers, cluster.hubCount());

        // snapshot latency, straight from the hubs' views
        report.snapshotOne = snapshots(serviceName(0), 200);
        report.snapshotAll = snapshots("", 20);
        out.printf("snapshot of one service (%d instances): p50=%.1f ms p99=%.1f ms (n=%d); of all services (%d"
                   + " instances): p50=%.1f ms p99=%.1f ms (n=%d)%n",
                   settings.instances / settings.services, ms(report.snapshotOne, 50), ms(report.snapshotOne, 99),
                   report.snapshotOne.getTotalCount(), settings.instances, ms(report.snapshotAll, 50),
                   ms(report.snapshotAll, 99), report.snapshotAll.getTotalCount());

        // steady state with churn: every lease kept, every change propagated
        double[] hubCpu = new double[cluster.hubCount()];
        for (int i = 0; i < hubCpu.length; i++) {
            hubCpu[i] = cluster.hubCpuSeconds(i);
        }
        double etcdCpu = cluster.etcdCpuSeconds();
        Thread sampler = Thread.ofVirtual().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                report.unhealthySamples += registrations.stream().filter(r -> !r.healthy()).count();
                if (!sleep(500)) {
                    return;
                }
            }
        });
        churn.run(settings.steady);
        sampler.interrupt();
        awaitTrue("every churn call answered", Duration.ofSeconds(10), () -> churn.inFlight() == 0);
        pause(2000);
        for (int i = 0; i < hubCpu.length; i++) {
            report.hubCpuSeconds += cluster.hubCpuSeconds(i) - hubCpu[i];
            report.hubPeakRssMib = Math.max(report.hubPeakRssMib, cluster.hubPeakRssMib(i));
        }
        report.etcdCpuSeconds = cluster.etcdCpuSeconds() - etcdCpu;
        report.etcdPeakRssMib = cluster.etcdPeakRssMib();
        report.propagation = churn.propagation;
        report.unpropagated = churn.unseen();
        report.churnErrors = churn.errors.get();
        report.churnRegistrationsSent = churn.registrationsSent.get();
        report.churnRegistered = churn.registered.get();
        report.churnDeregistrationsSent = churn.deregistrationsSent.get();
        report.churnDeregistered = churn.deregistered.get();
        report.leasesLost = lost(registrations, leases);
        out.printf("churn %d registrations + %d deregistrations/s for %d s: propagation Register -> every subscriber"
                   + " of the service: p50=%.1f ms p99=%.1f ms max=%.1f ms (n=%d, never seen by all: %d, call errors: %d;"
                   + " registered %d of %d, deregistered %d of %d)%n",
                   settings.churnPerSecond, settings.churnPerSecond, settings.steady.toSeconds(),
                   ms(report.propagation, 50), ms(report.propagation, 99), report.propagation.getMaxValue() / 1000.0,
                   report.propagation.getTotalCount(), report.unpropagated, report.churnErrors, report.churnRegistered,
                   report.churnRegistrationsSent, report.churnDeregistered, report.churnDeregistrationsSent);
        out.printf("leases lost: %d (registrations seen unhealthy in 0.5 s samples: %d)%n", report.leasesLost,
                   report.unhealthySamples);
        out.printf("during the churn phase: hub CPU %.1f s (all %d replicas), hub peak RSS %d MiB (largest replica);"
                   + " etcd CPU %.1f s, etcd peak RSS %d MiB%n", report.hubCpuSeconds, cluster.hubCount(),
                   report.hubPeakRssMib, report.etcdCpuSeconds, report.etcdPeakRssMib);
        churn.clear();
        churn.close();
        awaitTrue("every subscriber converged after churn", Duration.ofSeconds(30), () -> converged(subscribers, 1));

        // a hub replica dies: its subscribers move to the others, no lease is lost
        cluster.killHub(0);
        long killed = System.nanoTime();
        awaitTrue("every subscriber back on the other replicas with a correct set", Duration.ofSeconds(30),
                  () -> cluster.hubMetric(1, "switchboard_hub_watches_open") >= settings.subscribers
                        && converged(subscribers, 1));
        report.failoverSeconds = seconds(System.nanoTime() - killed);
        pause(settings.ttlSeconds * 1000L);
        report.leasesLostAfterHubKill = lost(registrations, leases);
        out.printf("hub replica 0 killed: every subscriber back on replica 1 with a correct set after %.2f s;"
                   + " leases lost: %d%n", report.failoverSeconds, report.leasesLostAfterHubKill);

        // etcd stops for a while: every registration comes back, nothing stale stays
        cluster.stopEtcd();
        pause(settings.etcdOutage.toMillis());
        cluster.startEtcd();
        long back = System.nanoTime();
        awaitTrue("all registrations back and every subscriber correct after the etcd outage", Duration.ofSeconds(120),
                  () -> registrations.stream().allMatch(Registration::healthy)
                        && total(1) == settings.instances
                        && converged(subscribers, 1));
        report.etcdRecoverySeconds = seconds(System.nanoTime() - back);
        out.printf("etcd stopped for %d s: all %d registrations back, healthy, and every subscriber correct %.1f s"
                   + " after etcd returned%n", settings.etcdOutage.toSeconds(), settings.instances,
                   report.etcdRecoverySeconds);
        // registrations renewed for real: a lease only refreshed by etcd's restart expires within a TTL
        pause(settings.ttlSeconds * 1000L + 2000);
        report.staleAfterOutage = total(1) == settings.instances && converged(subscribers, 1) ? 0 : 1;
        registrations.forEach(Registration::close);
        return report;
    }

    private double hubsCpuSeconds() {
        double total = 0;
        for (int i = 0; i < cluster.hubCount(); i++) {
            total += cluster.hubCpuSeconds(i);
        }
        return total;
    }

    private List<RegistryClient> newClients(int count) {
        List<RegistryClient> created = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            created.add(RegistryClient.create(cluster.hubEndpoints()));
        }
        clients.addAll(created);
        return created;
    }

    private Instance instance(int i) {
        return Instance.newBuilder()
                .setService(serviceName(i % settings.services))
                .setId("i-" + i)
                .setHost("10." + (i / 62500) + "." + (i / 250 % 250) + "." + (i % 250 + 1))
                .setPort(10000 + i % 50000)
                .setVersion("1")
                .build();
    }

    static String serviceName(int n) {
        return String.format("svc-%03d", n);
    }

    /* Whether every subscriber holds exactly what etcd holds for its service (read through a hub's GetService). */
    private boolean converged(List<Subscriber> subscribers, int hub) {
        Map<String, Set<String>> truth = new HashMap<>();
        try {
            for (Subscriber subscriber : subscribers) {
                Set<String> expected = truth.computeIfAbsent(subscriber.service(), s -> ids(hub, s));
                if (!expected.equals(subscriber.ids())) {
                    return false;
                }
            }
            return true;
        } catch (StatusRuntimeException e) {
            return false;
        }
    }

    private Set<String> ids(int hub, String service) {
        Set<String> ids = new TreeSet<>();
        hubs.get(hub).withDeadlineAfter(5, TimeUnit.SECONDS)
                .getService(GetServiceRequest.newBuilder().setService(service).build())
                .getInstancesList().forEach(i -> ids.add(i.getId()));
        return ids;
    }

    private long total(int hub) {
        try {
            long total = 0;
            for (int s = 0; s < settings.services; s++) {
                total += ids(hub, serviceName(s)).size();
            }
            return total;
        } catch (StatusRuntimeException e) {
            return -1;
        }
    }

    /*
     * Time from opening a Watch to its snapshot, alternating over the hubs. Each measurement ends by cancelling its
     * stream, and Helidon closes a connection that resets many streams in a short time as a rapid-reset attack: so
     * each connection carries at most RESETS_PER_CONNECTION of them, and is opened (by an unmeasured call) before.
     */
    private Histogram snapshots(String service, int count) {
        Histogram histogram = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        List<ManagedChannel> open = new ArrayList<>();
        List<HubGrpc.HubStub> stubs = new ArrayList<>();
        try {
            for (int n = 0; n < count; n++) {
                if (n % (RESETS_PER_CONNECTION * cluster.hubCount()) == 0) {
                    open.forEach(ManagedChannel::shutdownNow);
                    open.clear();
                    stubs.clear();
                    for (int i = 0; i < cluster.hubCount(); i++) {
                        ManagedChannel channel = NettyChannelBuilder.forTarget(cluster.hubEndpoint(i)).usePlaintext().build();
                        HubGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                                .getService(GetServiceRequest.newBuilder().setService(service.isEmpty() ? serviceName(0)
                                                                                                         : service).build());
                        open.add(channel);
                        stubs.add(HubGrpc.newStub(channel));
                    }
                }
                histogram.recordValue(snapshotMicros(stubs.get(n % stubs.size()), service));
            }
        } finally {
            open.forEach(ManagedChannel::shutdownNow);
        }
        return histogram;
    }

    private static long snapshotMicros(HubGrpc.HubStub hub, String service) {
        CompletableFuture<WatchResponse> first = new CompletableFuture<>();
        ClientCallStreamObserver<?>[] call = new ClientCallStreamObserver<?>[1];
        long sent = System.nanoTime();
        hub.watch(WatchRequest.newBuilder().setService(service).build(),
                  new ClientResponseObserver<WatchRequest, WatchResponse>() {
                      @Override
                      public void beforeStart(ClientCallStreamObserver<WatchRequest> stream) {
                          call[0] = stream;
                      }

                      @Override
                      public void onNext(WatchResponse response) {
                          first.complete(response);
                      }

                      @Override
                      public void onError(Throwable t) {
                          first.completeExceptionally(t);
                      }

                      @Override
                      public void onCompleted() {
                          first.completeExceptionally(new IllegalStateException("stream ended"));
                      }
                  });
        try {
            WatchResponse response = first.get(10, TimeUnit.SECONDS);
            long micros = (System.nanoTime() - sent) / 1000;
            if (response.getType() != WatchResponse.Type.SNAPSHOT) {
                throw new IllegalStateException("first Watch message is " + response.getType());
            }
            return micros;
        } catch (Exception e) {
            throw new IllegalStateException("no snapshot of '" + service + "': " + e, e);
        } finally {
            call[0].cancel("measured", null);
        }
    }

    private static Map<Registration, Long> leases(List<Registration> registrations) {
        Map<Registration, Long> leases = new HashMap<>();
        registrations.forEach(r -> leases.put(r, r.leaseId()));
        return leases;
    }

    private static long lost(List<Registration> registrations, Map<Registration, Long> leases) {
        return registrations.stream().filter(r -> r.leaseId() != leases.get(r)).count();
    }

    private void awaitTrue(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not reached within " + timeout.toSeconds() + " s: " + what);
            }
            pause(100);
        }
    }

    private void close() {
        clients.forEach(RegistryClient::close);
        channels.forEach(ManagedChannel::shutdownNow);
    }

    static void pause(long millis) {
        if (!sleep(millis)) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    private static boolean sleep(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    private static double ms(Histogram histogram, double percentile) {
        return histogram.getValueAtPercentile(percentile) / 1000.0;
    }

    /**
     * The scenario's sizes.
     *
     * @param instances      instances registered and kept alive
     * @param services       services they are spread over
     * @param subscribers    Watch subscribers, spread over the services and hubs
     * @param steady         how long the churn phase lasts
     * @param churnPerSecond registrations (and as many deregistrations) per second during it
     * @param ttlSeconds     lease TTL
     * @param etcdOutage     how long etcd stays down
     */
    public record Settings(int instances, int services, int subscribers, Duration steady, int churnPerSecond,
                           int ttlSeconds, Duration etcdOutage) {
    }

    /**
     * The figures, for assertions and the report.
     */
    public static final class Report {
        public double registerSeconds;
        public double watchersIdle;
        public double watchStreamsIdle;
        public double watchers;
        public double watchStreams;
        public Histogram snapshotOne;
        public Histogram snapshotAll;
        public Histogram propagation;
        public long unpropagated;
        public long churnErrors;
        public long churnRegistrationsSent;
        public long churnRegistered;
        public long churnDeregistrationsSent;
        public long churnDeregistered;
        public long leasesLost;
        public volatile long unhealthySamples;
        public double hubCpuSeconds;
        public long hubPeakRssMib;
        public double etcdCpuSeconds;
        public long etcdPeakRssMib;
        public double failoverSeconds;
        public long leasesLostAfterHubKill;
        public double etcdRecoverySeconds;
        public long staleAfterOutage;
    }
}
