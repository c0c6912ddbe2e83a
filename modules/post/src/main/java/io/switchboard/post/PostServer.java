package io.switchboard.post;

import java.nio.file.Path;
import java.util.List;

import io.helidon.config.Config;
import io.switchboard.post.posts.Posts;
import io.switchboard.runtime.ServiceRuntime;
import io.switchboard.tokens.Authentication;
import io.switchboard.tokens.UserKeys;
import io.switchboard.runtime.db.Database;

/**
 * A running post service: its database and API, registered through the hub, verifying tokens with the public keys
 * the user service publishes (found through discovery). Used by {@link Main} and by tests.
 */
public final class PostServer implements AutoCloseable {
    private final ServiceRuntime runtime;
    private final Database database;
    private final UserKeys keys;

    private PostServer(ServiceRuntime runtime, Database database, UserKeys keys) {
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
    public static PostServer start(Config config) {
        Path dataDir = Path.of(config.get("data.dir").asString().orElse("data"));
        ServiceRuntime runtime = ServiceRuntime.create(config, "post");
        Database database = Database.open(config.get("db"), dataDir, "post", Posts.MIGRATIONS, runtime.tracing());
        UserKeys keys = UserKeys.open(runtime.discovery(), config);
        runtime.start(List.of(new Authentication(keys.verifier())), List.of(new PostService(new Posts(database))));
        return new PostServer(runtime, database, keys);
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
