package io.switchboard.registry.impl;

import java.util.ArrayList;
import java.util.List;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;

/**
 * The instances a call's attempts went to, so that a hedge or retry goes elsewhere (as Envoy's previous-hosts retry
 * predicate does): grpc-java's balancer picks each attempt on its own and would send a hedge to the frozen instance
 * that held the first attempt about as often as not. Each call of a channel carries one in its call options, which
 * every attempt of the call shares; {@link io.switchboard.registry.client.OneCall} shares one between calls. Thread safe.
 */
public final class TriedInstances {
    /** The call option; absent on calls of channels not built by this library. */
    public static final CallOptions.Key<TriedInstances> KEY = CallOptions.Key.create("switchboard.tried-instances");

    /** Gives each call of a channel its own record, unless the caller gave it one to share with another call. */
    static final ClientInterceptor INTERCEPTOR = new ClientInterceptor() {
        @Override
        public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
            return options.getOption(KEY) != null ? next.newCall(method, options)
                    : next.newCall(method, options.withOption(KEY, new TriedInstances()));
        }
    };

    private final List<Object> tried = new ArrayList<>(2);

    /**
     * An empty record.
     */
    public TriedInstances() {
    }

    /**
     * Notes that an attempt went to an instance.
     *
     * @param instance the balancer's key for the instance
     */
    synchronized void add(Object instance) {
        tried.add(instance);
    }

    /**
     * Whether an attempt of the call went to the instance.
     *
     * @param instance the balancer's key for the instance
     * @return true when tried
     */
    synchronized boolean contains(Object instance) {
        return tried.contains(instance);
    }

    /**
     * Whether no attempt was picked yet.
     *
     * @return true before the first pick
     */
    synchronized boolean isEmpty() {
        return tried.isEmpty();
    }
}
