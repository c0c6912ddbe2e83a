package ${package};

import java.nio.file.Path;
import java.util.List;

import io.helidon.config.Config;
import io.switchboard.runtime.ServiceRuntime;
import io.switchboard.runtime.db.Database;
import io.switchboard.tokens.Authentication;
import io.switchboard.tokens.UserKeys;

/**
 * A running ${service} service: its database and API, registered through the hub (which publishes the API for the
 * gateway), verifying tokens with the keys the user service publishes. Used by {@link Main} and by tests.
 */
public final class ${serviceClass}Server implements AutoCloseable {
    private final ServiceRuntime runtime;
    private final Database database;
    private final UserKeys keys;

    private ${serviceClass}Server(ServiceRuntime runtime, Database database, UserKeys keys) {
        this.runtime = runtime;
        this.database = database;
        this.keys = keys;
    }

    /**
     * Starts the service from configuration (see {@code application.yaml}).
     *
     * @param config root configuration
     * @return the running service
     */
    public static ${serviceClass}Server start(Config config) {
        Path dataDir = Path.of(config.get("data.dir").asString().orElse("data"));
        ServiceRuntime runtime = ServiceRuntime.create(config, "${service}");
        Database database = Database.open(config.get("db"), dataDir, "${service}", Items.MIGRATIONS, runtime.tracing());
        UserKeys keys = UserKeys.open(runtime.discovery(), config);
        runtime.start(List.of(new Authentication(keys.verifier())), List.of(new ${serviceClass}Service(new Items(database))));
        return new ${serviceClass}Server(runtime, database, keys);
    }

    /**
     * The running runtime (port, readiness).
     *
     * @return runtime
     */
    public ServiceRuntime runtime() {
        return runtime;
    }

    @Override
    public void close() {
        runtime.close();
        keys.close();
        database.close();
    }
}
