package io.switchboard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Free TCP ports on loopback, for servers started by tests. A port is handed out at most once per JVM: the kernel
 * may offer the same free port to two callers in a row (a test picked a port for the gateway, then the PostgreSQL
 * harness got the same one and bound it first).
 */
public final class FreePorts {
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {
    }

    /**
     * A port that was free a moment ago on 127.0.0.1 and that this JVM has not handed out before. Another process may
     * still take it before the caller binds it.
     *
     * @return a port number
     */
    public static int next() {
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = probe();
            if (HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no loopback port this JVM has not handed out already");
    }

    private static int probe() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on loopback", e);
        }
    }
}
