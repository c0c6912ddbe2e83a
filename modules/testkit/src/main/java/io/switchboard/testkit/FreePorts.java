package io.switchboard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * Free TCP ports on loopback, for servers started by tests.
 */
public final class FreePorts {
    private FreePorts() {
    }

    /**
     * A port that was free a moment ago on 127.0.0.1. Another process may take it before the caller binds it; the
     * kernel hands out ephemeral ports in sequence, so that is rare enough for tests.
     *
     * @return a port number
     */
    public static int next() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on loopback", e);
        }
    }
}
