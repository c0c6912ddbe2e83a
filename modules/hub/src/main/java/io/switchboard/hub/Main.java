package io.switchboard.hub;

import io.helidon.config.Config;
import io.helidon.logging.common.LogConfig;

/**
 * Starts the hub: {@code java -jar hub.jar}. Configuration comes from {@code application.yaml}, overridden by
 * environment variables ({@code ETCD_ENDPOINTS} for {@code etcd.endpoints}, {@code SERVER_PORT} for
 * {@code server.port}) and system properties. SIGTERM stops it gracefully.
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
        Runtime.getRuntime().addShutdownHook(new Thread(hub::close, "hub-shutdown"));
    }
}
