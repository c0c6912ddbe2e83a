package io.switchboard.gateway;

import io.helidon.config.Config;
import io.switchboard.server.Launcher;

/**
 * Starts the gateway: {@code java -jar gateway.jar}. Configuration: {@code application.yaml}, overridden by
 * environment variables ({@code HUB_ENDPOINTS}, {@code SERVER_PORT}, ...). SIGTERM drains in-flight requests and
 * it exits 0.
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
        Launcher.run("gateway", () -> GatewayServer.start(Config.create()));
    }
}
