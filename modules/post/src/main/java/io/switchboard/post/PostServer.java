package io.switchboard.post;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import com.nimbusds.jose.jwk.JWKSet;
import io.grpc.ManagedChannel;
import io.helidon.config.Config;
import io.switchboard.api.user.v1.GetJwksRequest;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.post.posts.Posts;
import io.switchboard.registry.Balancing;
import io.switchboard.runtime.ServiceRuntime;
import io.switchboard.runtime.auth.Authentication;
import io.switchboard.runtime.auth.TokenVerifier;
import io.switchboard.runtime.db.Database;

/**
 * A running post service: its database and API, registered through the hub, verifying tokens with the public keys
 * the user service publishes (found through discovery). Used by {@link Main} and by tests.
 */
public final class PostServer implements AutoCloseable {
    private final ServiceRuntime runtime;
    private final Database database;
    private final ManagedChannel users;

    private PostServer(ServiceRuntime runtime, Database database, ManagedChannel users) {
        this.runtime = runtime;
        this.database = database;
        this.users = users;
    }

    /**
     * Starts the service from configuration (see {@code application.yaml}).
     *
     * @param config root configuration
     * @return the running service
     */
    public static PostServer start(Config config) {
        Path dataDir = Path.of(config.get("data.dir").asString().orElse("data"));
        Database database = Database.open(config.get("db"), dataDir, "post", Posts.MIGRATIONS);
        ManagedChannel[] users = new ManagedChannel[1];
        ServiceRuntime runtime = ServiceRuntime.start(config, "post", (grpc, discovery) -> {
            users[0] = discovery.channel("user", Balancing.ROUND_ROBIN,
                                         Set.of(UserServiceGrpc.getGetJwksMethod().getFullMethodName()));
            UserServiceGrpc.UserServiceBlockingStub keys = UserServiceGrpc.newBlockingStub(users[0]);
            TokenVerifier verifier = new TokenVerifier(() -> parse(keys.withDeadlineAfter(2, TimeUnit.SECONDS)
                                                                           .getJwks(GetJwksRequest.getDefaultInstance())
                                                                           .getJson()));
            grpc.intercept(new Authentication(verifier)).service(new PostService(new Posts(database)));
        });
        return new PostServer(runtime, database, users[0]);
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
        users.shutdownNow();
        database.close();
    }

    private static JWKSet parse(String json) {
        try {
            return JWKSet.parse(json);
        } catch (java.text.ParseException e) {
            throw new IllegalStateException("user published an unreadable key set: " + e.getMessage());
        }
    }
}
