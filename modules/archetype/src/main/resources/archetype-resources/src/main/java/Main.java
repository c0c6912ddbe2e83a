package ${package};

import io.helidon.config.Config;
import io.switchboard.server.Launcher;

/**
 * Starts the ${service} service: {@code java -jar target/${service}.jar}. Configuration: {@code application.yaml},
 * overridden by environment variables ({@code HUB_ENDPOINTS}, {@code TLS_LOCAL_CA}, {@code DB_URL}, ...). SIGTERM
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
        Launcher.run("${service}", () -> ${serviceClass}Server.start(Config.create()));
    }
}
