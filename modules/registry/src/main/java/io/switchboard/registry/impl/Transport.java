package io.switchboard.registry.impl;

import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.grpc.okhttp.OkHttpChannelBuilder;
import io.switchboard.identity.WorkloadTls;

/**
 * How every channel of this library reaches its servers, the hub's and the instances' alike: grpc-java's OkHttp
 * transport with its socket reader and writers on virtual threads, addresses from an {@link AddressSource}, mutual
 * TLS when the component has an identity.
 */
final class Transport {
    /*
     * A call from a virtual thread (a Helidon handler) then never waits for a platform event-loop thread to wake up,
     * as with the Netty transport. Through the gateway on two cores: about 12 % less CPU per request
     * (bench/README.md).
     */
    private static final Executor EXECUTOR = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("registry-transport-", 0).factory());
    /*
     * The HTTP/2 flow-control window a channel grants, per stream and for the connection. OkHttp's default, 64 KiB,
     * is quickly used up by answers in flight, and a Helidon 4.5 server then stalls: each WINDOW_UPDATE wakes one
     * of the streams waiting to send, the others sleep 50 ms, 100 ms, ... (a list route at 64 connections fell from
     * thousands of answers per second to hundreds, with 5 s timeouts). Callers read every answer as it comes
     * (unary calls and Watch streams, 4 MiB per message at most), so a large window costs no memory the calls in
     * flight would not take anyway. (Netty, which the hub connection used before, starts at 1 MiB and grows.)
     */
    static final int FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;

    private Transport() {
    }

    /**
     * A channel builder whose addresses come from a source, over mutual TLS when the component has an identity:
     * it shows its own certificate, and reaches only a server whose certificate names the service it dialled
     * ({@code name}), so that an address registered by anyone else gets no call. grpc-java's TLS channel
     * credentials would check the address's host name instead, so the channel takes the socket factory and the
     * identity check directly; all channels share the component's one TLS context (and its session cache).
     *
     * @param name   the channel's authority: the service, or {@code hub}
     * @param source where the addresses come from
     * @param tls    the component's TLS, or null for plaintext
     * @return the builder, to add balancing and call policies to
     */
    static OkHttpChannelBuilder channel(String name, AddressSource source, WorkloadTls tls) {
        OkHttpChannelBuilder builder = OkHttpChannelBuilder.forTarget(SourceResolverProvider.target(name))
                .setNameResolverArg(SourceResolverProvider.SOURCE, source)
                .transportExecutor(EXECUTOR)
                .flowControlWindow(FLOW_CONTROL_WINDOW)
                .keepAliveTime(30, TimeUnit.SECONDS);
        if (tls == null) {
            return builder.usePlaintext();
        }
        return builder.sslSocketFactory(tls.sslContext().getSocketFactory()).hostnameVerifier(tls.verifierFor());
    }
}
