package io.switchboard.comment;

import io.helidon.config.Config;
import io.helidon.logging.common.LogConfig;
import io.switchboard.server.GracefulStop;

/**
 * Starts the comment service: {@code java -jar comment.jar}. Configuration: {@code application.yaml}, overridden by
 * environment variables ({@code HUB_ENDPOINTS}, {@code DB_URL}, {@code REGISTRY_ADVERTISE_HOST}, ...). SIGTERM
 * stops it gracefully (not ready, deregistered, drained) and it exits 0.
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
        GracefulStop.onSignal(CommentServer.start(Config.create()));
    }
}
