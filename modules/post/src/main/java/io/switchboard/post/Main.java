package io.switchboard.post;

import io.helidon.config.Config;
import io.switchboard.server.Launcher;

/**
 * Starts the post service: {@code java -jar post.jar}. Configuration: {@code application.yaml}, overridden by
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
        Launcher.run("post", () -> PostServer.start(Config.create()));
    }
}
