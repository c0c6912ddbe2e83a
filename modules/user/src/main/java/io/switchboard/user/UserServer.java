package io.switchboard.user;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import io.helidon.config.Config;
import io.switchboard.runtime.ServiceRuntime;
import io.switchboard.runtime.db.Database;
import io.switchboard.tokens.Authentication;
import io.switchboard.tokens.RevokedTokens;
import io.switchboard.tokens.TokenUpkeep;
import io.switchboard.tokens.TokenVerifier;
import io.switchboard.tokens.UserKeys;
import io.switchboard.user.accounts.Accounts;
import io.switchboard.user.accounts.Passwords;
import io.switchboard.user.accounts.Revocations;
import io.switchboard.user.tokens.SigningKeys;
import io.switchboard.user.tokens.TokenIssuer;

/**
 * A running user service: its database, keys and API, registered through the hub. Used by {@link Main} and by
 * tests, so that both run exactly the same wiring.
 */
public final class UserServer implements AutoCloseable {
    private final ServiceRuntime runtime;
    private final Database database;
    private final TokenUpkeep upkeep;

    private UserServer(ServiceRuntime runtime, Database database, TokenUpkeep upkeep) {
        this.runtime = runtime;
        this.database = database;
        this.upkeep = upkeep;
    }

    /**
     * Starts the service from configuration (see {@code application.yaml}).
     *
     * @param config root configuration
     * @return the running service
     */
    public static UserServer start(Config config) {
        Path dataDir = Path.of(config.get("data.dir").asString().orElse("data"));
        Config user = config.get("user");
        ServiceRuntime runtime = ServiceRuntime.create(config, "user");
        // an account whose registration was acknowledged must survive a power cut, not only a killed process
        Database database = Database.open(config.get("db"), dataDir, "user", Accounts.MIGRATIONS,
                                          Database.Synchronous.FULL, runtime.tracing());
        SigningKeys keys = SigningKeys.load(user, dataDir);
        Passwords passwords = new Passwords(user.get("argon2.memory-kib").asInt().orElse(19 * 1024),
                                            user.get("argon2.iterations").asInt().orElse(2));
        Revocations revocations = new Revocations(database);
        Duration clockSkew = UserKeys.clockSkew(config);
        Duration poll = UserKeys.revocationPoll(config);
        // user verifies its own tokens with its own keys and revocations: no call to itself through discovery
        RevokedTokens revoked = RevokedTokens.from(revocations::since, clockSkew);
        TokenVerifier verifier = new TokenVerifier(keys::publicSet, TokenVerifier.REFRESH_INTERVAL, clockSkew, revoked);
        UserService service = new UserService(new Accounts(database), passwords,
                                              new TokenIssuer(keys, user.get("token-ttl").as(Duration.class)
                                                      .orElse(Duration.ofHours(1))),
                                              keys,
                                              new LoginLimiter(user.get("login.max-failures").asInt().orElse(5),
                                                               user.get("login.window").as(Duration.class)
                                                                       .orElse(Duration.ofMinutes(5)),
                                                               user.get("login.account-failures").asInt().orElse(20),
                                                               user.get("login.account-interval").as(Duration.class)
                                                                       .orElse(Duration.ofSeconds(2))),
                                              revocations, revoked);
        runtime.start(List.of(new Authentication(verifier)), List.of(service));
        // the revocations of the other user instances on this database
        return new UserServer(runtime, database, TokenUpkeep.start(verifier, poll, () -> true));
    }

    /* The accounts database, for tests that check how it is opened. */
    Database database() {
        return database;
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
        upkeep.close();
        runtime.close();
        database.close();
    }
}
