package io.switchboard.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP forwarder on a free loopback port that a test can cut and restore, to put a network partition between
 * two real components without stopping either of them.
 * <p>
 * {@link #cut()} closes every open connection and stops listening, so new connections are refused;
 * {@link #restore()} listens again on the same port. Thread safe.
 */
public final class TcpProxy implements AutoCloseable {
    private final int port;
    private final InetSocketAddress target;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();
    private ServerSocket server;

    private TcpProxy(int port, InetSocketAddress target) {
        this.port = port;
        this.target = target;
    }

    /**
     * Starts forwarding a free local port to the target.
     *
     * @param targetHost host to forward to
     * @param targetPort port to forward to
     * @return the running proxy
     */
    public static TcpProxy start(String targetHost, int targetPort) {
        TcpProxy proxy = new TcpProxy(FreePorts.next(), new InetSocketAddress(targetHost, targetPort));
        proxy.restore();
        return proxy;
    }

    /**
     * The local port that forwards to the target.
     *
     * @return port
     */
    public int port() {
        return port;
    }

    /**
     * Connections forwarded so far: whether, and how often, something dialled the target through this proxy.
     *
     * @return count
     */
    public int connections() {
        return connections.get();
    }

    /**
     * Drops every connection and refuses new ones until {@link #restore()}.
     */
    public synchronized void cut() {
        if (server != null) {
            closeQuietly(server);
            server = null;
        }
        sockets.forEach(TcpProxy::closeQuietly);
        sockets.clear();
    }

    /**
     * Accepts connections again.
     */
    public synchronized void restore() {
        if (server != null) {
            return;
        }
        try {
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            server = socket;
            Thread.ofVirtual().name("proxy-accept-" + port).start(() -> accept(socket));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + port, e);
        }
    }

    @Override
    public void close() {
        cut();
    }

    private void accept(ServerSocket socket) {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                Socket upstream = new Socket();
                try {
                    upstream.connect(target, 2000);
                } catch (IOException e) {
                    closeQuietly(client);
                    continue;
                }
                connections.incrementAndGet();
                sockets.add(client);
                sockets.add(upstream);
                Thread.ofVirtual().start(() -> pump(client, upstream));
                Thread.ofVirtual().start(() -> pump(upstream, client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16384];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException ignored) {
            // the other side or cut() closed the connection
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            sockets.remove(from);
            sockets.remove(to);
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // closing is best effort
        }
    }
}
