package io.switchboard.identity;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real TLS handshakes over loopback sockets between components' contexts: mutual authentication, the client's check
 * of which service it reached, refusal of another CA's certificates, and rotation by replacing the files.
 */
class WorkloadTlsUnitTest {
    @TempDir
    Path directory;

    @Test
    void bothSidesProveTheirServiceAndTheClientChecksItReachedTheOneItDialled() throws Exception {
        LocalCa ca = LocalCa.openOrCreate(directory, "switchboard.local");
        try (WorkloadTls hub = WorkloadTls.load(ca.ensure("hub"), Duration.ofHours(1));
             WorkloadTls post = WorkloadTls.load(ca.ensure("post"), Duration.ofHours(1))) {
            Handshake seen = handshake(hub, post);

            assertThat(seen.serverSawClient()).contains(new ServiceIdentity("switchboard.local", "post"));
            assertThat(seen.clientSawServer()).contains(new ServiceIdentity("switchboard.local", "hub"));
            assertThat(seen.verifierSays("hub")).as("dialled hub, reached hub").isTrue();
            assertThat(seen.verifierSays("user")).as("dialled user, reached hub").isFalse();
            assertThat(hub.identity().service()).isEqualTo("hub");
            assertThat(hub.notAfter()).isAfter(Instant.now().plus(Duration.ofDays(59)));
        }
    }

    @Test
    void aCertificateOfAnotherCaIsRefusedInTheHandshake() throws Exception {
        LocalCa ours = LocalCa.openOrCreate(directory.resolve("ours"), "switchboard.local");
        LocalCa theirs = LocalCa.openOrCreate(directory.resolve("theirs"), "switchboard.local");
        try (WorkloadTls hub = WorkloadTls.load(ours.ensure("hub"), Duration.ofHours(1));
             WorkloadTls intruder = WorkloadTls.load(theirs.ensure("post"), Duration.ofHours(1))) {
            assertThatThrownBy(() -> handshake(hub, intruder)).isInstanceOf(IOException.class);
        }
    }

    @Test
    void replacedFilesAreUsedByTheNextHandshakeAndBrokenOnesAreNot() throws Exception {
        LocalCa ca = LocalCa.openOrCreate(directory, "switchboard.local");
        IdentityFiles postFiles = ca.ensure("post");
        try (WorkloadTls hub = WorkloadTls.load(ca.ensure("hub"), Duration.ofHours(1));
             WorkloadTls post = WorkloadTls.load(postFiles, Duration.ofMillis(100))) {
            BigInteger before = handshake(hub, post).clientSerial();

            BigInteger rotated = LocalCa.readCertificate(ca.issue("post", Duration.ofDays(10)).certificate())
                    .getSerialNumber();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            BigInteger now = before;
            while (!now.equals(rotated) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                now = handshake(hub, post).clientSerial();
            }
            assertThat(now).as("the serial the hub sees after the files were replaced").isEqualTo(rotated);
            assertThat(post.notAfter()).isBefore(Instant.now().plus(Duration.ofDays(11)));

            // a key that is not the certificate's: the files are refused and the rotated certificate stays
            Path otherKey = ca.issue("user", Duration.ofDays(10)).privateKey();
            Files.copy(otherKey, postFiles.privateKey(), StandardCopyOption.REPLACE_EXISTING);
            post.reloadIfChanged();
            assertThat(handshake(hub, post).clientSerial()).isEqualTo(rotated);
        }
    }

    private record Handshake(Optional<ServiceIdentity> serverSawClient, Optional<ServiceIdentity> clientSawServer,
                             BigInteger clientSerial, SSLSession clientSession,
                             HostnameVerifier verifier) {
        boolean verifierSays(String authority) {
            return verifier.verify(authority, clientSession);
        }
    }

    /* One handshake: server needs a client certificate, as the hub will. */
    private static Handshake handshake(WorkloadTls server, WorkloadTls client) throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) server.sslContext().getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listener.setNeedClientAuth(true);
            // the server side says who it saw before it answers, and closes only after the client read the answer
            CompletableFuture<Optional<ServiceIdentity>> serverSide = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                    accepted.setSoTimeout(5_000);
                    accepted.startHandshake();
                    serverSide.complete(WorkloadTls.peer(accepted.getSession().getPeerCertificates()));
                    accepted.getOutputStream().write(1);
                    accepted.getOutputStream().flush();
                    accepted.getInputStream().read();
                } catch (IOException e) {
                    serverSide.complete(Optional.empty());
                }
            });
            try (SSLSocket socket = (SSLSocket) client.sslContext().getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                socket.setSoTimeout(5_000);
                socket.startHandshake();
                if (socket.getInputStream().read() != 1) {
                    throw new IOException("the server closed the connection");
                }
                socket.getOutputStream().write(2);
                socket.getOutputStream().flush();
                X509Certificate mine = (X509Certificate) socket.getSession().getLocalCertificates()[0];
                return new Handshake(serverSide.get(5, TimeUnit.SECONDS),
                                     WorkloadTls.peer(socket.getSession().getPeerCertificates()),
                                     mine.getSerialNumber(), socket.getSession(), client.verifierFor());
            }
        }
    }
}
