package io.switchboard.hub.etcd;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import javax.net.ssl.SSLException;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseTimeToLiveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.identity.WorkloadTls;

/**
 * The hub's only state: instance records in etcd under {@code /switchboard/services/}, each attached to a lease.
 * This is the only class that speaks to etcd through jetcd; what it hands out is decoded ({@link InstanceRecord},
 * {@link RecordChange}).
 * <p>
 * Every operation is bounded by a timeout and fails with a gRPC {@link StatusRuntimeException}: UNAVAILABLE when
 * etcd cannot be reached or does not answer in time, NOT_FOUND for a lease etcd does not know. Thread safe.
 */
public final class EtcdStore implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EtcdStore.class.getName());
    private static final long TIMEOUT_MILLIS = 3000;
    /* Records read per etcd request: 256 of the largest (about 8.5 KiB) make about 2 MiB, under the 4 MiB limit */
    private static final int RECORDS_PER_PAGE = 256;
    /* Published API schemas by id: no lease, they outlive the instances that publish them. */
    private static final String SCHEMAS = "/switchboard/schemas/";

    private final List<URI> endpoints;
    private final WorkloadTls tls;
    private final List<Runnable> errorListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> reconnectListeners = new CopyOnWriteArrayList<>();
    private final LeaseStream leases;
    private volatile Client client;

    private EtcdStore(List<URI> endpoints, WorkloadTls tls) {
        this.endpoints = endpoints;
        this.tls = tls;
        this.client = newClient(endpoints, tls);
        this.leases = new LeaseStream(endpoints, tls, TIMEOUT_MILLIS);
    }

    /**
     * A store over the given etcd endpoints. Does not connect yet: etcd may come up later.
     *
     * @param endpoints comma-separated URLs such as {@code http://127.0.0.1:2379}
     * @return the store
     * @throws IllegalArgumentException when an endpoint is not such a URL, or one is {@code https}
     */
    public static EtcdStore connect(String endpoints) {
        return connect(endpoints, null);
    }

    /**
     * A store over the given etcd endpoints, over mutual TLS where they are {@code https}: the hub shows etcd its own
     * certificate (etcd's {@code --client-cert-auth}, and with etcd's auth on, the certificate's common name is the
     * etcd user), and trusts only an etcd whose certificate its CA issued for {@code spiffe://<trust-domain>/service/etcd}.
     *
     * @param endpoints comma-separated URLs, all {@code http} or all {@code https}
     * @param tls       the hub's TLS, or null
     * @return the store
     * @throws IllegalArgumentException when an endpoint is not a URL, the schemes are mixed, or {@code https} comes
     *                                  without TLS
     */
    public static EtcdStore connect(String endpoints, WorkloadTls tls) {
        List<URI> uris = Arrays.stream(endpoints.split(",")).map(String::trim).filter(e -> !e.isEmpty())
                .map(URI::create).toList();
        if (uris.isEmpty() || uris.stream().anyMatch(u -> u.getHost() == null || u.getPort() < 0
                                                          || !(u.getScheme().equals("http") || u.getScheme().equals("https")))) {
            throw new IllegalArgumentException("etcd.endpoints must be URLs such as http://127.0.0.1:2379, got \""
                                               + endpoints + "\"");
        }
        long secure = uris.stream().filter(u -> u.getScheme().equals("https")).count();
        if (secure > 0 && secure < uris.size()) {
            throw new IllegalArgumentException("etcd.endpoints mixes http and https: " + endpoints);
        }
        if (secure > 0 && tls == null) {
            throw new IllegalArgumentException("etcd.endpoints are https, so the hub needs its identity (tls.*) to show"
                                               + " etcd");
        }
        if (secure == 0) {
            LOG.log(Level.WARNING, "etcd is reached over plaintext http (" + endpoints + "): anyone who reaches it can"
                                   + " read and change the registry; use https endpoints and etcd's client-cert-auth");
        }
        return new EtcdStore(uris, secure > 0 ? tls : null);
    }

    /**
     * Replaces the etcd client with a new one that connects at once. jetcd's channel backs off its reconnects
     * (up to two minutes) after an outage and offers no way to reset that; the probe calls this when etcd accepts
     * connections again but the old client still fails. Calls in flight on the old client fail with UNAVAILABLE.
     */
    public void reconnect() {
        Client old = client;
        client = newClient(endpoints, tls);
        old.close();
        leases.reset();
        reconnectListeners.forEach(Runnable::run);
    }

    /**
     * Called after {@link #reconnect()}: watches made on the old client are gone.
     *
     * @param listener runs on the reconnecting thread
     */
    public void onReconnect(Runnable listener) {
        reconnectListeners.add(listener);
    }

    /**
     * Whether some etcd endpoint accepts a TCP connection.
     *
     * @param timeoutMillis connect timeout per endpoint
     * @return true when one does
     */
    public boolean acceptsConnections(int timeoutMillis) {
        for (URI endpoint : endpoints) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(endpoint.getHost(), endpoint.getPort()), timeoutMillis);
                return true;
            } catch (IOException e) {
                // try the next one
            }
        }
        return false;
    }

    private static Client newClient(List<URI> endpoints, WorkloadTls tls) {
        ClientBuilder builder = Client.builder();
        if (tls != null) {
            try {
                builder.sslContext(ssl -> ssl.keyManager(tls.keyManager()).trustManager(tls.trustManager("etcd")));
            } catch (SSLException e) {
                throw new IllegalStateException("cannot set up TLS to etcd: " + e.getMessage(), e);
            }
        }
        return builder
                .endpoints(endpoints)
                // fail fast while etcd is away instead of queueing calls: the caller decides to retry
                .waitForReady(false)
                // callers of the hub retry with their own jittered backoff: jetcd's retries only add latency
                .retryDelay(100)
                .retryMaxDelay(400)
                .retryMaxAttempts(2)
                .retryMaxDuration(Duration.ofSeconds(2))
                .connectTimeout(Duration.ofSeconds(2))
                .keepaliveTime(Duration.ofSeconds(10))
                .keepaliveTimeout(Duration.ofSeconds(3))
                // one etcd watch answer may carry many changes at once (after a reconnection, say)
                .maxInboundMessageSize(16 * 1024 * 1024)
                .build();
    }

    /**
     * Called after every failed etcd operation, for metrics.
     *
     * @param listener runs on the failing thread
     */
    public void onError(Runnable listener) {
        errorListeners.add(listener);
    }

    /**
     * Grants a lease and writes the instance's record attached to it, in one transaction that writes only where no
     * record is: a registration never replaces a record that another lease holds.
     *
     * @param instance     a validated instance
     * @param registeredAt the time stored beside it
     * @param ttlSeconds   lease TTL
     * @return the lease id and the revision of the write
     * @throws StatusRuntimeException ALREADY_EXISTS when another lease holds the instance's record (the new lease is
     *                                revoked), UNAVAILABLE when etcd cannot be reached
     */
    public Registered register(Instance instance, Instant registeredAt, long ttlSeconds) {
        ByteSequence key = bytes(InstanceRecords.key(instance.getService(), instance.getId()));
        long leaseId = await(client.getLeaseClient().grant(ttlSeconds)).getID();
        TxnResponse written = await(client.getKVClient().txn()
                                            .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                                            .Then(Op.put(key, ByteSequence.from(InstanceRecords.encode(instance, registeredAt)),
                                                         PutOption.builder().withLeaseId(leaseId).build()))
                                            .commit());
        if (!written.isSucceeded()) {
            // unused: it would otherwise live its TTL in etcd
            client.getLeaseClient().revoke(leaseId);
            throw Status.ALREADY_EXISTS.withDescription(
                    instance.getService() + "/" + instance.getId() + " is registered under another lease; the id is"
                    + " free once that lease is revoked or expires").asRuntimeException();
        }
        return new Registered(leaseId, written.getHeader().getRevision());
    }

    /**
     * Who holds a lease, read from etcd: the services of the instance records attached to it.
     *
     * @param leaseId lease
     * @return the services, an empty name for a key that is not an instance record; none for a lease that holds no
     *         record or does not exist
     * @throws StatusRuntimeException UNAVAILABLE when etcd cannot be reached
     */
    public Set<String> holders(long leaseId) {
        LeaseTimeToLiveResponse read = await(client.getLeaseClient().timeToLive(
                leaseId, LeaseOption.builder().withAttachedKeys().build()));
        Set<String> services = new TreeSet<>();
        for (ByteSequence key : read.getKeys()) {
            // a key that is not an instance record is no service's
            services.add(InstanceRecords.idOf(key.toString(StandardCharsets.UTF_8))
                                 .map(InstanceRecords.InstanceId::service).orElse(""));
        }
        return services;
    }

    /**
     * Stores a schema under its id unless one is already there, in one etcd transaction: a schema is written once,
     * with no lease, and never changes.
     *
     * @param id     the schema's id (its content hash)
     * @param schema the schema's bytes
     * @return true when this call wrote it, false when it was already stored
     */
    public boolean putSchema(String id, byte[] schema) {
        ByteSequence key = bytes(SCHEMAS + id);
        return await(client.getKVClient().txn()
                             .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                             .Then(Op.put(key, ByteSequence.from(schema), PutOption.DEFAULT))
                             .commit())
                .isSucceeded();
    }

    /**
     * A stored schema.
     *
     * @param id the schema's id
     * @return its bytes, empty when none is stored under that id
     */
    public Optional<byte[]> schema(String id) {
        GetResponse response = await(client.getKVClient().get(bytes(SCHEMAS + id)));
        return response.getKvs().isEmpty() ? Optional.empty() : Optional.of(response.getKvs().get(0).getValue().getBytes());
    }

    /**
     * Whether a schema is stored, read without its bytes.
     *
     * @param id the schema's id
     * @return true when stored
     */
    public boolean hasSchema(String id) {
        return await(client.getKVClient().get(bytes(SCHEMAS + id), GetOption.builder().withCountOnly(true).build()))
                .getCount() > 0;
    }

    /**
     * Renews leases once each over the hub's one shared lease stream to etcd, all requests sent at once, so that a
     * batch costs about one etcd round trip and no stream of its own.
     *
     * @param leaseIds leases, distinct
     * @return for each lease, in the given order, the TTL it was renewed to; 0 when etcd no longer has it
     * @throws StatusRuntimeException UNAVAILABLE when etcd cannot be reached or does not answer in time
     */
    public Map<Long, Long> keepAlive(Collection<Long> leaseIds) {
        Map<Long, Long> ttls = new LinkedHashMap<>();
        leases.renew(leaseIds).forEach((id, call) -> ttls.put(id, await(call)));
        return ttls;
    }

    /**
     * Reads the granted and remaining TTL of leases from etcd, with at most {@code maxInFlight} reads outstanding,
     * all within one deadline. etcd is the only party that knows when a lease was last renewed, whichever hub
     * replica renewed it. Never throws for etcd failures: leases not read in time are missing from the result.
     *
     * @param leaseIds      leases
     * @param maxInFlight   most reads outstanding at once
     * @param timeoutMillis deadline for the whole batch
     * @return TTLs by lease id, for the leases that were read
     */
    public Map<Long, LeaseTtl> timeToLive(Collection<Long> leaseIds, int maxInFlight, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Semaphore slots = new Semaphore(maxInFlight);
        Map<Long, LeaseTtl> ttls = new ConcurrentHashMap<>();
        List<CompletableFuture<LeaseTimeToLiveResponse>> calls = new ArrayList<>();
        try {
            for (long id : leaseIds) {
                if (!slots.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    break;
                }
                CompletableFuture<LeaseTimeToLiveResponse> call = client.getLeaseClient().timeToLive(id, LeaseOption.DEFAULT);
                calls.add(call);
                call.whenComplete((response, error) -> {
                    slots.release();
                    if (response != null) {
                        ttls.put(id, new LeaseTtl(response.getGrantedTTL(), response.getTTL()));
                    }
                });
            }
            CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
                    .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            errorListeners.forEach(Runnable::run);
        }
        calls.forEach(call -> call.cancel(false));
        return Map.copyOf(ttls);
    }

    /**
     * Revokes a lease, deleting the records attached to it.
     *
     * @param leaseId lease
     * @return the revision after the revoke
     */
    public long revoke(long leaseId) {
        return await(client.getLeaseClient().revoke(leaseId)).getHeader().getRevision();
    }

    /**
     * The records of one service, or of every service, at one revision. Records that do not parse are skipped.
     *
     * @param service service name; empty for every service
     * @return the records, sorted by key (service, then instance id), and the revision they were read at
     */
    public Records records(String service) {
        String prefix = service.isEmpty() ? InstanceRecords.PREFIX : InstanceRecords.servicePrefix(service);
        // a page at a time, all at the revision of the first: a large registry in one answer would pass the largest
        // message jetcd accepts
        ByteSequence end = OptionsUtil.prefixEndOf(bytes(prefix));
        List<InstanceRecord> records = new ArrayList<>();
        ByteSequence from = bytes(prefix);
        long revision = 0;
        while (true) {
            GetOption.Builder page = GetOption.builder().withRange(end).withLimit(RECORDS_PER_PAGE);
            if (revision != 0) {
                page.withRevision(revision);
            }
            GetResponse response = await(client.getKVClient().get(from, page.build()));
            if (revision == 0) {
                revision = response.getHeader().getRevision();
            }
            for (KeyValue kv : response.getKvs()) {
                InstanceRecords.read(key(kv), kv.getValue().getBytes(), kv.getLease(), kv.getCreateRevision())
                        .ifPresent(records::add);
            }
            if (!response.isMore() || response.getKvs().isEmpty()) {
                return new Records(records, revision);
            }
            // the next key after the last one read: its bytes and a zero byte
            byte[] last = response.getKvs().getLast().getKey().getBytes();
            from = ByteSequence.from(Arrays.copyOf(last, last.length + 1));
        }
    }

    /**
     * The names of the services that have at least one record, read without the records' values.
     *
     * @return the names, sorted, and the revision they were read at
     */
    public ServiceNames serviceNames() {
        GetResponse response = await(client.getKVClient().get(bytes(InstanceRecords.PREFIX), GetOption.builder()
                .isPrefix(true)
                .withKeysOnly(true)
                .build()));
        SortedSet<String> names = new TreeSet<>();
        response.getKvs().forEach(kv -> InstanceRecords.idOf(key(kv)).ifPresent(id -> names.add(id.service())));
        return new ServiceNames(List.copyOf(names), response.getHeader().getRevision());
    }

    /**
     * Follows every change of the records from a revision on, through jetcd's watch (which resumes by itself after
     * transient errors, reporting each to {@code onError}). Changes of one etcd answer arrive together, in order.
     *
     * @param fromRevision first revision to report
     * @param onChanges    receives the changes of each answer, on jetcd's thread; must not block for long
     * @param onError      told of every interruption, and of the end of a watch that cannot go on (a compacted
     *                     revision): the caller reads the records again and watches from there
     * @return the watch, to close
     */
    public RecordWatch watch(long fromRevision, Consumer<List<RecordChange>> onChanges, Consumer<Throwable> onError) {
        Watch.Watcher watcher = client.getWatchClient().watch(
                bytes(InstanceRecords.PREFIX),
                WatchOption.builder().isPrefix(true).withRevision(fromRevision).build(),
                Watch.listener(response -> onChanges.accept(changes(response)), onError));
        return watcher::close;
    }

    private static List<RecordChange> changes(WatchResponse response) {
        List<RecordChange> changes = new ArrayList<>(response.getEvents().size());
        for (WatchEvent event : response.getEvents()) {
            KeyValue kv = event.getKeyValue();
            long revision = kv.getModRevision();
            switch (event.getEventType()) {
            case PUT -> InstanceRecords.read(key(kv), kv.getValue().getBytes(), kv.getLease(), kv.getCreateRevision())
                    .ifPresent(record -> changes.add(new RecordChange.Put(record, revision)));
            case DELETE -> InstanceRecords.idOf(key(kv))
                    .ifPresent(id -> changes.add(new RecordChange.Delete(id.service(), id.id(), revision)));
            default -> { }
            }
        }
        return changes;
    }

    /**
     * A cheap linearizable read, to tell whether etcd answers.
     *
     * @param timeoutMillis how long to wait
     * @return true when etcd answered in time
     */
    public boolean ping(long timeoutMillis) {
        try {
            client.getKVClient().get(bytes(InstanceRecords.PREFIX + ".ping"), GetOption.builder().withCountOnly(true).build())
                    .get(timeoutMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    private static ByteSequence bytes(String key) {
        return ByteSequence.from(key, StandardCharsets.UTF_8);
    }

    private static String key(KeyValue kv) {
        return kv.getKey().toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        leases.close();
        client.close();
    }

    private <T> T await(CompletableFuture<T> future) {
        try {
            return future.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        } catch (TimeoutException e) {
            future.cancel(true);
            throw failed(Status.UNAVAILABLE.withDescription("etcd did not answer within " + TIMEOUT_MILLIS + " ms"));
        } catch (ExecutionException e) {
            throw failed(toStatus(e.getCause()));
        }
    }

    private StatusRuntimeException failed(Status status) {
        if (status.getCode() != Status.Code.NOT_FOUND) {
            errorListeners.forEach(Runnable::run);
        }
        return status.asRuntimeException();
    }

    /*
     * jetcd reports etcd's answers as EtcdException or as a gRPC status, depending on the call and on whether its
     * retry wrapper was involved: look through the whole cause chain.
     */
    private static Status toStatus(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            if (message.contains("lease not found")) {
                return Status.NOT_FOUND.withDescription("lease not found");
            }
            if (t instanceof EtcdException etcd) {
                return switch (etcd.getErrorCode()) {
                    case NOT_FOUND -> Status.NOT_FOUND.withDescription(message);
                    case INVALID_ARGUMENT, OUT_OF_RANGE -> Status.INVALID_ARGUMENT.withDescription(message);
                    default -> Status.UNAVAILABLE.withDescription("etcd: " + message);
                };
            }
            if (t instanceof StatusRuntimeException || t instanceof StatusException) {
                Status status = Status.fromThrowable(t);
                return status.getCode() == Status.Code.NOT_FOUND
                        ? status
                        : Status.UNAVAILABLE.withDescription("etcd: " + status.getCode() + " " + status.getDescription());
            }
        }
        return Status.UNAVAILABLE.withDescription("etcd: " + cause);
    }

    /**
     * A lease granted with its record written.
     *
     * @param leaseId  lease
     * @param revision revision of the write
     */
    public record Registered(long leaseId, long revision) {
    }

    /**
     * A lease's TTL as etcd reports it.
     *
     * @param grantedSeconds   the TTL the lease was granted (and is renewed to)
     * @param remainingSeconds seconds until it expires; negative when etcd no longer has it
     */
    public record LeaseTtl(long grantedSeconds, long remainingSeconds) {
    }

    /**
     * A watch of the records; closing it stops the changes.
     */
    @FunctionalInterface
    public interface RecordWatch extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Records read at one revision.
     *
     * @param records  the records, sorted by service and instance id
     * @param revision revision they were read at
     */
    public record Records(List<InstanceRecord> records, long revision) {
    }

    /**
     * Service names read at one revision.
     *
     * @param names    the names, sorted
     * @param revision revision they were read at
     */
    public record ServiceNames(List<String> names, long revision) {
    }
}
