package io.switchboard.comment;

import java.nio.file.Path;
import java.util.List;

import io.helidon.config.Config;
import io.switchboard.comment.comments.Comments;
import io.switchboard.runtime.ServiceRuntime;
import io.switchboard.runtime.db.Database;
import io.switchboard.tokens.Authentication;
import io.switchboard.tokens.UserKeys;

/**
 * A running comment service: its database and API, registered through the hub, verifying tokens with the public
 * keys the user service publishes and asking the post service whether a post exists (both found through discovery).
 * Used by {@link Main} and by tests.
 */
public final class CommentServer implements AutoCloseable {
    private final ServiceRuntime runtime;
    private final Database database;
    private final UserKeys keys;
    private final PostLookup posts;

    private CommentServer(ServiceRuntime runtime, Database database, UserKeys keys, PostLookup posts) {
        this.runtime = runtime;
        this.database = database;
        this.keys = keys;
        this.posts = posts;
    }

    /**
     * Starts the service from configuration (see {@code application.yaml}).
     *
     * @param config root configuration
     * @return the running service
     */
    public static CommentServer start(Config config) {
        Path dataDir = Path.of(config.get("data.dir").asString().orElse("data"));
        ServiceRuntime runtime = ServiceRuntime.create(config, "comment");
        Database database = Database.open(config.get("db"), dataDir, "comment", Comments.MIGRATIONS,
                                          runtime.tracing());
        UserKeys keys = UserKeys.open(runtime.discovery(), config);
        PostLookup posts = new PostLookup(runtime.discovery());
        runtime.start(List.of(new Authentication(keys.verifier())),
                      List.of(new CommentService(new Comments(database), posts)));
        return new CommentServer(runtime, database, keys, posts);
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
        posts.close();
        keys.close();
        database.close();
    }
}
