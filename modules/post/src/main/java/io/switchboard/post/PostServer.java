package io.switchboard.post;

import java.nio.file.Path;
import java.time.Duration;
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
    private final PostFeed feed;

    private PostServer(ServiceRuntime runtime, Database database, UserKeys keys, PostFeed feed) {
        this.runtime = runtime;
        this.feed = feed;
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
        Posts posts = new Posts(database);
        PostFeed feed = new PostFeed(posts, config.get("watch.max-streams").asInt().orElse(1000),
                                     config.get("watch.poll-every").as(Duration.class).orElse(Duration.ofMillis(250)));
        runtime.start(List.of(new Authentication(keys.verifier())), List.of(new PostService(posts, feed)));
        return new PostServer(runtime, database, keys, feed);
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
        // streams end first, telling their clients to reconnect (elsewhere, from their last cursor)
        feed.close();
        runtime.close();
        keys.close();
        database.close();
    }
}
