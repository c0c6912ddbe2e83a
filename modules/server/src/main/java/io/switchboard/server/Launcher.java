package io.switchboard.server;

import java.io.UncheckedIOException;
import java.util.concurrent.Callable;

import io.helidon.config.ConfigException;
import io.helidon.logging.common.LogConfig;

/**
 * A component's {@code main}: configures logging, starts the component, and stops it gracefully on SIGTERM or SIGINT
 * ({@link GracefulStop}). A component that cannot start because of its configuration or its files (no identity, an
 * unreadable certificate, a value out of range, a port in use) logs one line saying why and exits with status 2: an
 * operator's mistake is not a stack trace. Any other failure is a bug and keeps its stack trace.
 */
public final class Launcher {
    /** The exit status of a component that cannot start as configured. */
    public static final int MISCONFIGURED = 2;
    private static final System.Logger LOG = System.getLogger(Launcher.class.getName());

    private Launcher() {
    }

    /**
     * Starts a component and keeps it running until a signal stops it; exits the JVM with {@link #MISCONFIGURED}
     * when it cannot start as configured.
     *
     * @param component the component's name, for the log line
     * @param start     starts it and returns what stops it
     */
    public static void run(String component, Callable<? extends AutoCloseable> start) {
        LogConfig.configureRuntime();
        AutoCloseable started = start(component, start);
        if (started == null) {
            System.exit(MISCONFIGURED);
        }
        GracefulStop.onSignal(started);
    }

    /**
     * Starts a component.
     *
     * @param component the component's name
     * @param start     starts it
     * @return what stops it, or {@code null} when it could not start as configured (logged)
     */
    static AutoCloseable start(String component, Callable<? extends AutoCloseable> start) {
        try {
            return start.call();
        } catch (IllegalArgumentException | UncheckedIOException | ConfigException e) {
            LOG.log(System.Logger.Level.ERROR, component + " cannot start: " + reason(e));
            return null;
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(component + " failed to start", e);
        }
    }

    /* The message of the exception and of each cause, in one line; a cause that adds no words adds its kind. */
    static String reason(Throwable e) {
        StringBuilder reason = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            String message = cause.getMessage();
            if (message != null && !reason.toString().contains(message)) {
                reason.append(": ").append(message);
            } else {
                reason.append(" (").append(cause.getClass().getSimpleName()).append(')');
            }
        }
        return reason.toString().replace('\n', ' ');
    }
}
