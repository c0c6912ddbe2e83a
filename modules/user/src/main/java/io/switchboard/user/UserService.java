package io.switchboard.user;

import java.lang.System.Logger.Level;
import java.time.Instant;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.user.v1.GetJwksRequest;
import io.switchboard.api.user.v1.GetUserRequest;
import io.switchboard.api.user.v1.Jwks;
import io.switchboard.api.user.v1.ListRevokedTokensRequest;
import io.switchboard.api.user.v1.ListRevokedTokensResponse;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.LoginResponse;
import io.switchboard.api.user.v1.LogoutRequest;
import io.switchboard.api.user.v1.LogoutResponse;
import io.switchboard.api.user.v1.RegisterRequest;
import io.switchboard.api.user.v1.RegisterResponse;
import io.switchboard.api.user.v1.RevokedToken;
import io.switchboard.api.user.v1.User;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.server.grpc.ClientAddress;
import io.switchboard.server.grpc.RequestIds;
import io.switchboard.server.grpc.Unary;
import io.switchboard.tokens.Caller;
import io.switchboard.tokens.RevokedTokens;
import io.switchboard.user.accounts.Accounts;
import io.switchboard.user.accounts.Passwords;
import io.switchboard.user.accounts.PhoneNumbers;
import io.switchboard.user.accounts.Revocations;
import io.switchboard.user.tokens.SigningKeys;
import io.switchboard.user.tokens.TokenIssuer;

/**
 * The user API: accounts, login and logout, the caller's own account, and what verifiers need: the public keys of
 * its tokens and the tokens revoked. Thread safe.
 */
final class UserService extends UserServiceGrpc.UserServiceImplBase {
    private static final System.Logger LOG = System.getLogger(UserService.class.getName());

    private final Accounts accounts;
    private final Passwords passwords;
    private final TokenIssuer tokens;
    private final SigningKeys keys;
    private final LoginLimiter limiter;
    private final Revocations revocations;
    private final RevokedTokens revoked;

    UserService(Accounts accounts, Passwords passwords, TokenIssuer tokens, SigningKeys keys, LoginLimiter limiter,
                Revocations revocations, RevokedTokens revoked) {
        this.revocations = revocations;
        this.revoked = revoked;
        this.accounts = accounts;
        this.passwords = passwords;
        this.tokens = tokens;
        this.keys = keys;
        this.limiter = limiter;
    }

    @Override
    public void register(RegisterRequest request, StreamObserver<RegisterResponse> responses) {
        Unary.answer(responses, () -> {
            String phone = PhoneNumbers.normalize(request.getPhoneNumber());
            Passwords.checkPolicy(request.getUserPassword());
            Accounts.Account account = accounts.create(phone, passwords.hash(request.getUserPassword()));
            LOG.log(Level.INFO, "[" + RequestIds.current() + "] registered user " + account.id());
            return RegisterResponse.newBuilder().setUserId(account.id()).setPhoneNumber(phone).build();
        });
    }

    @Override
    public void login(LoginRequest request, StreamObserver<LoginResponse> responses) {
        Unary.answer(responses, () -> {
            String phone = PhoneNumbers.normalize(request.getPhoneNumber());
            String client = ClientAddress.current();
            limiter.check(phone, client);
            Accounts.Account account = accounts.byPhoneNumber(phone).orElse(null);
            // an unknown number costs the same hash as a wrong password: the answers cannot be told apart
            Passwords.Check check = passwords.check(request.getUserPassword(),
                                                    account == null ? null : account.passwordHash());
            if (!check.matches()) {
                limiter.failed(phone, client);
                LOG.log(Level.INFO, "[" + RequestIds.current() + "] failed login");
                throw Status.UNAUTHENTICATED.withDescription("wrong phone number or password").asRuntimeException();
            }
            limiter.succeeded(phone, client);
            if (check.upgraded() != null) {
                upgrade(account, check.upgraded());
            }
            TokenIssuer.Issued issued = tokens.issue(account.id());
            return LoginResponse.newBuilder()
                    .setToken(issued.token())
                    .setExpiresAt(issued.expiresAt().toString())
                    .setUserId(account.id())
                    .build();
        });
    }

    /*
     * The stored hash was made with another Argon2 cost than the configured one: store the new one. The login
     * succeeds even if that fails; the next one tries again.
     */
    private void upgrade(Accounts.Account account, String upgraded) {
        try {
            if (accounts.replacePasswordHash(account.id(), account.passwordHash(), upgraded)) {
                LOG.log(Level.INFO, "[" + RequestIds.current() + "] password hash of user " + account.id()
                                    + " upgraded to the configured Argon2 cost");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "[" + RequestIds.current() + "] could not upgrade the password hash of user "
                                   + account.id() + ": " + e.getMessage());
        }
    }

    @Override
    public void getUser(GetUserRequest request, StreamObserver<User> responses) {
        Unary.answer(responses, () -> {
            Caller caller = Caller.required();
            if (!request.getUserId().isEmpty() && !request.getUserId().equals(caller.userId())) {
                throw Status.PERMISSION_DENIED.withDescription("only your own account can be read").asRuntimeException();
            }
            Accounts.Account account = accounts.byId(caller.userId())
                    .orElseThrow(() -> Status.NOT_FOUND.withDescription("account not found").asRuntimeException());
            return User.newBuilder()
                    .setUserId(account.id())
                    .setPhoneNumber(account.phoneNumber())
                    .setCreatedAt(Instant.ofEpochMilli(account.createdAt()).toString())
                    .build();
        });
    }

    @Override
    public void logout(LogoutRequest request, StreamObserver<LogoutResponse> responses) {
        Unary.answer(responses, () -> {
            Caller caller = Caller.required();
            revocations.revoke(caller.tokenId(), caller.userId(), caller.expiresAt().toEpochMilli());
            // this instance refuses the token at once; the other verifiers when they next read the revocations
            revoked.add(caller.tokenId(), caller.expiresAt().toEpochMilli());
            LOG.log(Level.INFO, "[" + RequestIds.current() + "] user " + caller.userId() + " logged out a token");
            return LogoutResponse.getDefaultInstance();
        });
    }

    @Override
    public void listRevokedTokens(ListRevokedTokensRequest request, StreamObserver<ListRevokedTokensResponse> responses) {
        Unary.answer(responses, () -> {
            if (request.getSinceMillis() < 0 || request.getAfterTokenId().length() > 64) {
                throw Status.INVALID_ARGUMENT.withDescription("sinceMillis must be 0 or more and afterTokenId at most 64 "
                                                              + "characters").asRuntimeException();
            }
            RevokedTokens.Page page = revocations.since(request.getSinceMillis(), request.getAfterTokenId());
            ListRevokedTokensResponse.Builder response = ListRevokedTokensResponse.newBuilder().setMore(page.more());
            for (RevokedTokens.Revoked token : page.tokens()) {
                response.addTokens(RevokedToken.newBuilder()
                                           .setTokenId(token.tokenId())
                                           .setExpiresAtMillis(token.expiresAtMillis())
                                           .setRevokedAtMillis(token.revokedAtMillis()));
            }
            return response.build();
        });
    }

    @Override
    public void getJwks(GetJwksRequest request, StreamObserver<Jwks> responses) {
        Unary.answer(responses, () -> Jwks.newBuilder().setJson(keys.publicSet().toString(true)).build());
    }
}
