package io.switchboard.testkit;

import io.grpc.ManagedChannel;
import io.grpc.okhttp.OkHttpChannelBuilder;
import io.switchboard.identity.WorkloadTls;

/**
 * gRPC channels of test and benchmark clients over mutual TLS, built as the registry library builds its own: grpc-java's
 * OkHttp transport with the client's certificate, reaching only a server whose certificate names the service dialled.
 */
public final class TlsChannels {
    private TlsChannels() {
    }

    /**
     * A channel to one address.
     *
     * @param client  the client's TLS
     * @param service the service the server must prove to be (the channel's authority)
     * @param host    host
     * @param port    port
     * @return the channel
     */
    public static ManagedChannel to(WorkloadTls client, String service, String host, int port) {
        return OkHttpChannelBuilder.forAddress(host, port)
                .overrideAuthority(service)
                .sslSocketFactory(client.sslContext().getSocketFactory())
                .hostnameVerifier(client.verifierFor())
                .build();
    }
}
