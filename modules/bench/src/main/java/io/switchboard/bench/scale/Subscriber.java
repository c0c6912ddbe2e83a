package io.switchboard.bench.scale;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import io.switchboard.api.hub.v1.Instance;
import io.switchboard.registry.ServiceEndpoints;

/**
 * One Watch subscriber of the scenario: a service's live endpoints as the registry library keeps them, and which
 * churned instances it has seen. Thread safe.
 */
final class Subscriber {
    private final ServiceEndpoints endpoints;
    private final Churn churn;
    private final Set<String> known = new HashSet<>();

    Subscriber(ServiceEndpoints endpoints, Churn churn) {
        this.endpoints = endpoints;
        this.churn = churn;
    }

    void start() {
        endpoints.subscribe(this::changed);
    }

    String service() {
        return endpoints.service();
    }

    /** The instance ids it holds now, sorted. */
    Set<String> ids() {
        Set<String> ids = new TreeSet<>();
        endpoints.instances().forEach(i -> ids.add(i.getId()));
        return ids;
    }

    private synchronized void changed(List<Instance> instances) {
        long now = System.nanoTime();
        Set<String> present = new HashSet<>();
        for (Instance instance : instances) {
            String id = instance.getId();
            if (Churn.isChurned(id)) {
                present.add(id);
                if (!known.contains(id)) {
                    churn.seen(id, this, now);
                }
            }
        }
        known.retainAll(present);
        known.addAll(present);
    }
}
