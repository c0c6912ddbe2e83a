package io.switchboard.server;

import java.util.List;

import sun.misc.Signal;

/**
 * Stops a process gracefully on SIGTERM or SIGINT and exits 0.
 * <p>
 * The signals are handled directly rather than in a shutdown hook: JUL resets its handlers in its own shutdown
 * hook, which would swallow the shutdown's log lines. The work runs on a non-daemon thread because signal handlers
 * run on a daemon thread, and the JVM would exit half-way as soon as the server's own threads end.
 */
public final class GracefulStop {
    private GracefulStop() {
    }

    /**
     * Closes the given resources in order on SIGTERM or SIGINT, then exits 0.
     *
     * @param resources what to close, first to last
     */
    public static void onSignal(AutoCloseable... resources) {
        List<AutoCloseable> order = List.of(resources);
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> Thread.ofPlatform().daemon(false).name("graceful-stop").start(() -> {
                for (AutoCloseable resource : order) {
                    try {
                        resource.close();
                    } catch (Exception e) {
                        System.getLogger(GracefulStop.class.getName())
                                .log(System.Logger.Level.WARNING, "error while stopping: " + e);
                    }
                }
                System.exit(0);
            }));
        }
    }
}
