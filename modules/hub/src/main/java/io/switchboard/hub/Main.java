package io.switchboard.hub;

import io.helidon.config.Config;
import io.helidon.logging.common.LogConfig;
import sun.misc.Signal;

/**
 * Starts the hub: {@code java -jar hub.jar}. Configuration comes from {@code application.yaml}, overridden by
 * environment variables ({@code ETCD_ENDPOINTS} for {@code etcd.endpoints}, {@code SERVER_PORT} for
 * {@code server.port}) and system properties. SIGTERM or SIGINT stops it gracefully and it exits 0.
 */
public final class Main {
    private Main() {
    }

    /**
     * Entry point.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        LogConfig.configureRuntime();
        HubServer hub = HubServer.start(Config.create());
        // Handle the signals ourselves rather than in a shutdown hook: JUL resets its handlers in its own hook,
        // which would swallow the shutdown's log lines, and a graceful stop should exit 0, not 143.
        for (String signal : new String[] {"TERM", "INT"}) {
            // signal handlers run on a daemon thread: the JVM would exit as soon as the server's threads end
            Signal.handle(new Signal(signal), s -> Thread.ofPlatform().daemon(false).name("hub-shutdown").start(() -> {
                hub.close();
                System.exit(0);
            }));
        }
    }
}
