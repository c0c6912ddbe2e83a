package io.switchboard.hub;

import io.helidon.config.Config;
import io.switchboard.server.Launcher;

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
        Launcher.run("hub", () -> HubServer.start(Config.create()));
    }
}
