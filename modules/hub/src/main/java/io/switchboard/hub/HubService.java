package io.switchboard.hub;

import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.hub.v1.DeregisterRequest;
import io.switchboard.api.hub.v1.DeregisterResponse;
import io.switchboard.api.hub.v1.GetSchemaRequest;
import io.switchboard.api.hub.v1.GetSchemaResponse;
import io.switchboard.api.hub.v1.GetServiceRequest;
import io.switchboard.api.hub.v1.GetServiceResponse;
import io.switchboard.api.hub.v1.HubGrpc;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.hub.v1.KeepAliveRequest;
import io.switchboard.api.hub.v1.KeepAliveResponse;
import io.switchboard.api.hub.v1.LeaseStatus;
import io.switchboard.api.hub.v1.ListServicesRequest;
import io.switchboard.api.hub.v1.ListServicesResponse;
import io.switchboard.api.hub.v1.PublishSchemaRequest;
import io.switchboard.api.hub.v1.PublishSchemaResponse;
import io.switchboard.api.hub.v1.RegisterRequest;
import io.switchboard.api.hub.v1.RegisterResponse;
import io.switchboard.api.hub.v1.WatchRequest;
import io.switchboard.api.hub.v1.WatchResponse;
import io.switchboard.hub.etcd.EtcdStore;
import io.switchboard.hub.view.InstanceView;
import io.switchboard.identity.ServiceIdentity;
import io.switchboard.schema.ApiSchemas;
import io.switchboard.server.grpc.CallerIdentity;
import io.switchboard.server.grpc.Unary;
import io.switchboard.server.logging.RefusalLog;

/**
 * The hub's gRPC API: validates every request, then reads or writes etcd. Holds no state of its own, so any
 * replica answers for a lease granted through another. Thread safe.
 * <p>
 * With identities (mutual TLS), every call needs a client certificate, an instance registers only under the service
 * its certificate names, and a lease is renewed or revoked only by the service whose record it holds (the view knows
 * which; etcd is asked when the view does not know the lease yet). A lease that holds no record is not renewed: its
 * holder registers again. Refusals are counted by reason and logged once per caller per minute.
 */
final class HubService extends HubGrpc.HubImplBase {
    private static final System.Logger LOG = System.getLogger(HubService.class.getName());

    /*
     * How long a Register waits for a free etcd slot before it is turned away. Short: a client told UNAVAILABLE
     * retries with jittered backoff, which spreads a crowd (every instance of a fleet after an etcd outage) far
     * better than a queue in the hub, where every waiting call holds a stream, a thread and memory.
     */
    private static final long ADMISSION_WAIT_MILLIS = 200;
    /* leases of one KeepAlive or Deregister the view does not know, each then read from etcd */
    private static final int MAX_HOLDER_READS = 16;

    private final EtcdStore store;
    private final InstanceView view;
    private final HubMetrics metrics;
    private final Semaphore registrations;
    /* with TLS: a caller registers only under the service its certificate names */
    private final boolean identities;
    private final WatchLimits watches;
    private final RefusalLog refusals = new RefusalLog();
    private final int maxRegistrations;
    private final RegistrationLimits limits;

    HubService(EtcdStore store, InstanceView view, HubMetrics metrics, int maxRegistrations, boolean identities,
               WatchLimits watches, RegistrationLimits limits) {
        this.identities = identities;
        this.watches = watches;
        this.limits = limits;
        this.store = store;
        this.view = view;
        this.metrics = metrics;
        this.maxRegistrations = maxRegistrations;
        this.registrations = new Semaphore(maxRegistrations);
    }

    @Override
    public void register(RegisterRequest request, StreamObserver<RegisterResponse> responses) {
        Unary.answer(responses, () -> {
            Instance instance = request.getInstance();
            authorise(instance.getService());
            // a registration never replaces a record another lease holds: ALREADY_EXISTS from the store's transaction
            InstanceRules.checkRegistration(instance, request.getTtlSeconds());
            String full = limits.refusal(view, instance);
            if (full != null) {
                refuse("instance-limit", CallerIdentity.current().map(ServiceIdentity::uri)
                               .orElse("a caller at " + CallerIdentity.peerHost()),
                       "registering " + instance.getService() + "/" + instance.getId(),
                       Status.RESOURCE_EXHAUSTED.withDescription(full));
            }
            EtcdStore.Registered registered = admitted(() -> {
                // a gateway must be able to fetch the API the instance says it serves
                if (!instance.getSchemaId().isEmpty() && !store.hasSchema(instance.getSchemaId())) {
                    throw Status.FAILED_PRECONDITION.withDescription("schema " + instance.getSchemaId()
                                                                     + " is not published: PublishSchema first")
                            .asRuntimeException();
                }
                return store.register(instance, Instant.now(), request.getTtlSeconds());
            });
            metrics.registered();
            LOG.log(Level.INFO, "registered " + instance.getService() + "/" + instance.getId() + " at "
                                + instance.getHost() + ":" + instance.getPort() + " lease "
                                + Long.toHexString(registered.leaseId()) + " ttl " + request.getTtlSeconds() + "s");
            return RegisterResponse.newBuilder()
                    .setLeaseId(registered.leaseId())
                    .setTtlSeconds(request.getTtlSeconds())
                    .setRevision(registered.revision())
                    .build();
        });
    }

    /*
     * With identities on, only an instance of a service registers as it: UNAUTHENTICATED without a certificate,
     * PERMISSION_DENIED with another service's. Counted every time, logged once per caller per minute.
     */
    private void authorise(String requested) {
        if (!identities) {
            return;
        }
        // checked before the request's own rules, so the name may be anything: never echo a hostile one
        String service = requested.matches("[a-z0-9-]{1,63}") ? requested : "(an invalid service name)";
        ServiceIdentity caller = caller("registering as " + service);
        if (!caller.service().equals(service)) {
            refuse("other-service", caller.uri(), "registering as " + service,
                   Status.PERMISSION_DENIED.withDescription(caller.uri() + " may register only as " + caller.service()
                                                            + ", not as " + service));
        }
    }

    /* The caller's identity; UNAUTHENTICATED without one. Only called with identities on. */
    private ServiceIdentity caller(String action) {
        Optional<ServiceIdentity> caller = CallerIdentity.current();
        if (caller.isEmpty()) {
            refuse("no-identity", "a caller without a client certificate at " + CallerIdentity.peerHost(), action,
                   Status.UNAUTHENTICATED.withDescription("the hub needs a client certificate that names a service"));
        }
        return caller.orElseThrow();
    }

    /*
     * With identities on, the leases of the given ones that hold no record at all (they are not renewed: their holder
     * registers again); PERMISSION_DENIED for the whole call when one holds another service's record.
     */
    private Set<Long> unheld(Collection<Long> leases, String action) {
        if (!identities) {
            return Set.of();
        }
        ServiceIdentity caller = caller(action);
        Set<Long> unheld = new LinkedHashSet<>();
        int asked = 0;
        for (long lease : leases) {
            Optional<String> known = view.serviceOf(lease);
            if (known.isEmpty() && ++asked > MAX_HOLDER_READS) {
                // the view follows etcd by milliseconds: many unknown leases at once are not a renewal's
                throw Status.UNAVAILABLE.withDescription("more than " + MAX_HOLDER_READS + " leases this hub does not"
                                                         + " know yet; retry").asRuntimeException();
            }
            Set<String> services = known.isPresent() ? Set.of(known.get()) : store.holders(lease);
            if (services.isEmpty()) {
                unheld.add(lease);
            } else if (!services.equals(Set.of(caller.service()))) {
                refuse("other-lease", caller.uri(), action + " lease " + Long.toHexString(lease),
                       Status.PERMISSION_DENIED.withDescription("lease " + Long.toHexString(lease) + " is not "
                                                                + caller.service() + "'s"));
            }
        }
        return unheld;
    }

    private void refuse(String reason, String caller, String action, Status status) {
        metrics.refused(reason);
        if (refusals.first(caller)) {
            LOG.log(Level.WARNING, "refused " + caller + " " + action + " (" + reason
                                   + "); further refusals of this caller within a minute are only counted");
        }
        throw status.asRuntimeException();
    }

    @Override
    public void keepAlive(KeepAliveRequest request, StreamObserver<KeepAliveResponse> responses) {
        Unary.answer(responses, () -> {
            Set<Long> leases = new LinkedHashSet<>(request.getLeaseIdsList());
            if (leases.isEmpty() || leases.size() > InstanceRules.MAX_LEASES_PER_KEEPALIVE) {
                throw Status.INVALID_ARGUMENT.withDescription("lease_ids must hold 1.."
                                                              + InstanceRules.MAX_LEASES_PER_KEEPALIVE
                                                              + " distinct lease ids, got " + leases.size())
                        .asRuntimeException();
            }
            leases.forEach(InstanceRules::checkLease);
            Set<Long> unheld = unheld(leases, "renewing");
            Set<Long> renewed = new LinkedHashSet<>(leases);
            renewed.removeAll(unheld);
            KeepAliveResponse.Builder response = KeepAliveResponse.newBuilder();
            if (!renewed.isEmpty()) {
                response.addAllLeases(renew(renewed));
            }
            unheld.forEach(lease -> response.addLeases(LeaseStatus.newBuilder().setLeaseId(lease).setAlive(false)));
            metrics.renewed(renewed.size());
            return response.build();
        });
    }

    @Override
    public void deregister(DeregisterRequest request, StreamObserver<DeregisterResponse> responses) {
        Unary.answer(responses, () -> {
            InstanceRules.checkLease(request.getLeaseId());
            if (!unheld(List.of(request.getLeaseId()), "revoking").isEmpty()) {
                // no record of the caller's: the same answer whether or not the lease exists
                ServiceIdentity caller = caller("revoking");
                String lease = Long.toHexString(request.getLeaseId());
                refuse("other-lease", caller.uri(), "revoking lease " + lease,
                       Status.PERMISSION_DENIED.withDescription("lease " + lease + " is not " + caller.service() + "'s"));
            }
            long revision = store.revoke(request.getLeaseId());
            metrics.deregistered();
            LOG.log(Level.INFO, "deregistered lease " + Long.toHexString(request.getLeaseId()));
            return DeregisterResponse.newBuilder().setRevision(revision).build();
        });
    }

    @Override
    public void getService(GetServiceRequest request, StreamObserver<GetServiceResponse> responses) {
        Unary.answer(responses, () -> {
            identified("reading services");
            InstanceRules.checkService(request.getService());
            EtcdStore.Records read = store.records(request.getService());
            GetServiceResponse.Builder response = GetServiceResponse.newBuilder().setRevision(read.revision());
            read.records().forEach(record -> response.addInstances(record.instance()));
            return response.build();
        });
    }

    @Override
    public void listServices(ListServicesRequest request, StreamObserver<ListServicesResponse> responses) {
        Unary.answer(responses, () -> {
            identified("listing services");
            EtcdStore.ServiceNames read = store.serviceNames();
            return ListServicesResponse.newBuilder().addAllServices(read.names()).setRevision(read.revision()).build();
        });
    }

    @Override
    public void publishSchema(PublishSchemaRequest request, StreamObserver<PublishSchemaResponse> responses) {
        Unary.answer(responses, () -> {
            identified("publishing a schema");
            byte[] schema = request.getSchema().toByteArray();
            SchemaRules.checkSchema(schema);
            String id = ApiSchemas.idOf(schema);
            if (store.putSchema(id, schema)) {
                LOG.log(Level.INFO, "stored schema " + id + " (" + schema.length + " bytes)");
            }
            return PublishSchemaResponse.newBuilder().setSchemaId(id).build();
        });
    }

    @Override
    public void getSchema(GetSchemaRequest request, StreamObserver<GetSchemaResponse> responses) {
        Unary.answer(responses, () -> {
            identified("reading a schema");
            SchemaRules.checkId(request.getSchemaId());
            byte[] schema = store.schema(request.getSchemaId()).orElseThrow(() -> Status.NOT_FOUND
                    .withDescription("no schema " + request.getSchemaId()).asRuntimeException());
            return GetSchemaResponse.newBuilder().setSchema(ByteString.copyFrom(schema)).build();
        });
    }

    @Override
    public void watch(WatchRequest request, StreamObserver<WatchResponse> responses) {
        try {
            identified("watching services");
            if (!request.getService().isEmpty()) {
                InstanceRules.checkService(request.getService());
            }
        } catch (StatusRuntimeException e) {
            responses.onError(e);
            return;
        }
        WatchLimits.Place place = watches.admit(CallerIdentity.peerConnection());
        if (place.refusal() != null) {
            try {
                // logged once a minute per caller, counted every time
                refuse("watch-limit", CallerIdentity.current().map(ServiceIdentity::uri)
                               .orElse("a caller at " + CallerIdentity.peerHost()), "watching services",
                       place.refusal() == WatchLimits.Refusal.CONNECTION
                               ? Status.RESOURCE_EXHAUSTED.withDescription("this connection has as many Watch streams "
                                                                           + "open as one may (hub.max-watches-per-connection)")
                               : Status.UNAVAILABLE.withDescription("this hub serves as many Watch streams as it may "
                                                                    + "(hub.max-watches); watch through another replica"));
            } catch (StatusRuntimeException e) {
                responses.onError(e);
            }
            return;
        }
        view.subscribe(request.getService(), request.getAcceptParts(), (ServerCallStreamObserver<WatchResponse>) responses,
                       place);
    }

    /* With identities on, a call without a client certificate gets UNAUTHENTICATED. */
    private void identified(String action) {
        if (identities) {
            caller(action);
        }
    }

    /*
     * At most maxRegistrations grants and writes in flight to etcd: 10,000 instances registering at once would
     * otherwise each hold a jetcd call, time out together and exhaust the hub's memory.
     */
    private <T> T admitted(Supplier<T> call) {
        try {
            if (!registrations.tryAcquire(ADMISSION_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                metrics.turnedAway();
                throw Status.UNAVAILABLE.withDescription("hub busy: " + maxRegistrations
                                                         + " registrations in flight; retry with backoff")
                        .asRuntimeException();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        }
        try {
            return call.get();
        } finally {
            registrations.release();
        }
    }

    private List<LeaseStatus> renew(Set<Long> leases) {
        List<LeaseStatus> statuses = new ArrayList<>(leases.size());
        store.keepAlive(leases).forEach((lease, ttl) -> statuses.add(
                LeaseStatus.newBuilder().setLeaseId(lease).setAlive(ttl > 0).setTtlSeconds(Math.max(ttl, 0)).build()));
        return statuses;
    }

}
