package io.switchboard.registry.impl;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import io.grpc.ClientStreamTracer;
import io.grpc.ConnectivityState;
import io.grpc.LoadBalancer;
import io.grpc.LoadBalancerProvider;
import io.grpc.LoadBalancerRegistry;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.util.MultiChildLoadBalancer;
import io.switchboard.registry.Balancing;

/**
 * Least-outstanding-requests balancing for grpc-java: of two ready instances picked at random, the call goes to
 * the one with fewer calls in flight (the "power of two choices", as Envoy's and gRPC's xDS least-request
 * policies do). Children are grpc-java's pick_first per instance, so a refused instance is skipped until it
 * connects again, exactly as with round_robin. A hedge or retry of a call goes to an instance the call has not tried
 * yet when one is ready ({@link TriedInstances}): a frozen instance holds its attempts, but they are cancelled when
 * another attempt wins, so its count of calls in flight alone would not keep the hedge away from it.
 */
final class LeastOutstandingLoadBalancer extends MultiChildLoadBalancer {
    static {
        LoadBalancerRegistry.getDefaultRegistry().register(new Provider());
    }

    private ConnectivityState state;
    private SubchannelPicker picker;

    private LeastOutstandingLoadBalancer(Helper helper) {
        super(helper);
    }

    /**
     * Makes sure the policy is registered with grpc-java.
     */
    static void register() {
        // the static initializer does the work
    }

    @Override
    protected ChildLbState createChildLbState(Object key) {
        return new CountingChild(key);
    }

    @Override
    protected void updateOverallBalancingState() {
        List<ChildLbState> ready = getReadyChildren();
        if (!ready.isEmpty()) {
            update(ConnectivityState.READY, new Picker(ready.stream().map(c -> (CountingChild) c).toList()));
            return;
        }
        boolean connecting = getChildLbStates().stream()
                .anyMatch(c -> c.getCurrentState() == ConnectivityState.CONNECTING
                               || c.getCurrentState() == ConnectivityState.IDLE);
        if (connecting) {
            update(ConnectivityState.CONNECTING, new FixedResultPicker(PickResult.withNoResult()));
        } else {
            update(ConnectivityState.TRANSIENT_FAILURE, new FixedResultPicker(PickResult.withError(
                    Status.UNAVAILABLE.withDescription("no instance accepts connections"))));
        }
    }

    private void update(ConnectivityState newState, SubchannelPicker newPicker) {
        if (newState != state || !newPicker.equals(picker)) {
            state = newState;
            picker = newPicker;
            currentConnectivityState = newState;
            getHelper().updateBalancingState(newState, newPicker);
        }
    }

    private final class CountingChild extends ChildLbState {
        private final AtomicInteger outstanding = new AtomicInteger();
        private final ClientStreamTracer.Factory tracer = new ClientStreamTracer.Factory() {
            @Override
            public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
                outstanding.incrementAndGet();
                return new ClientStreamTracer() {
                    @Override
                    public void streamClosed(Status status) {
                        outstanding.decrementAndGet();
                    }
                };
            }
        };

        CountingChild(Object key) {
            super(key, pickFirstLbProvider);
        }

        @Override
        protected ChildLbStateHelper createChildHelper() {
            return new ChildLbStateHelper() {
                @Override
                public void updateBalancingState(ConnectivityState newState, SubchannelPicker newPicker) {
                    super.updateBalancingState(newState, newPicker);
                    // reconnect an idle instance at once, as round_robin does
                    if (!resolvingAddresses && newState == ConnectivityState.IDLE) {
                        getLb().requestConnection();
                    }
                }
            };
        }
    }

    private static final class Picker extends SubchannelPicker {
        private final List<CountingChild> children;

        Picker(List<CountingChild> children) {
            this.children = children;
        }

        @Override
        public PickResult pickSubchannel(PickSubchannelArgs args) {
            TriedInstances tried = args.getCallOptions().getOption(TriedInstances.KEY);
            List<CountingChild> candidates = tried == null || tried.isEmpty() ? children : untried(tried);
            CountingChild chosen = candidates.get(0);
            if (candidates.size() > 1) {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                int first = random.nextInt(candidates.size());
                int second = random.nextInt(candidates.size() - 1);
                if (second >= first) {
                    second++;
                }
                CountingChild a = candidates.get(first);
                CountingChild b = candidates.get(second);
                chosen = a.outstanding.get() <= b.outstanding.get() ? a : b;
            }
            PickResult result = chosen.getCurrentPicker().pickSubchannel(args);
            if (result.getSubchannel() == null) {
                return result;
            }
            if (tried != null) {
                tried.add(chosen);
            }
            return PickResult.withSubchannel(result.getSubchannel(), chosen.tracer);
        }

        /* A hedge or retry: the ready instances the call has not tried yet, or all of them when it tried every one. */
        private List<CountingChild> untried(TriedInstances tried) {
            List<CountingChild> left = children.stream().filter(c -> !tried.contains(c)).toList();
            return left.isEmpty() ? children : left;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Picker picker && picker.children.equals(children);
        }

        @Override
        public int hashCode() {
            return children.hashCode();
        }
    }

    private static final class Provider extends LoadBalancerProvider {
        @Override
        public boolean isAvailable() {
            return true;
        }

        @Override
        public int getPriority() {
            return 5;
        }

        @Override
        public String getPolicyName() {
            return Balancing.LEAST_OUTSTANDING.policy();
        }

        @Override
        public LoadBalancer newLoadBalancer(LoadBalancer.Helper helper) {
            return new LeastOutstandingLoadBalancer(helper);
        }
    }
}
