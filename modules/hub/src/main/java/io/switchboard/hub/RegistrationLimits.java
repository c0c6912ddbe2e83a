package io.switchboard.hub;

import io.switchboard.api.hub.v1.Instance;
import io.switchboard.hub.view.InstanceView;

/**
 * How many instances the registry holds: in all, and of one service (of one identity, since only a service's own
 * instances register as it). Each record costs every hub and every watching gateway memory and every snapshot bytes,
 * so a workload that registers without end would otherwise grow them all. A registration of an instance the view
 * already holds (the same service and id) passes: the store then decides. The caps are soft: they are checked against
 * the view, which follows etcd by milliseconds, before a registration waits for admission, so registrations at the
 * same moment may pass a cap by as many as are in flight or waiting, on each hub replica; and a hub whose view has
 * not synced yet counts nothing. Thread safe.
 *
 * @param total      instances in all, at least 1
 * @param perService instances of one service, at least 1
 */
record RegistrationLimits(int total, int perService) {
    RegistrationLimits {
        if (total < 1 || perService < 1) {
            throw new IllegalArgumentException("hub.max-instances and hub.max-instances-per-service must be at least 1, "
                                               + "got " + total + " and " + perService);
        }
    }

    /**
     * Why the instance may not join now, or null when it may.
     *
     * @param view     the registry as the hub sees it
     * @param instance the instance registering
     * @return the refusal, for the caller
     */
    String refusal(InstanceView view, Instance instance) {
        if (view.holds(instance.getService(), instance.getId())) {
            return null;
        }
        if (view.instanceCount(instance.getService()) >= perService) {
            return "service " + instance.getService() + " has its most instances (" + perService
                   + ", hub.max-instances-per-service)";
        }
        if (view.size() >= total) {
            return "the registry holds its most instances (" + total + ", hub.max-instances)";
        }
        return null;
    }
}
