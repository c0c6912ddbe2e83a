package io.switchboard.user;

import io.helidon.config.Config;
import io.switchboard.server.Launcher;

/**
 * Starts the user service: {@code java -jar user.jar}. Configuration: {@code application.yaml}, overridden by
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
        Launcher.run("user", () -> UserServer.start(Config.create()));
    }
}
