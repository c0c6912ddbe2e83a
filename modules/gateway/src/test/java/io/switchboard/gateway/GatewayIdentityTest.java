package io.switchboard.gateway;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.gson.JsonParser;
import com.google.protobuf.util.JsonFormat;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.switchboard.api.hub.v1.Instance;
import io.switchboard.api.user.v1.GetJwksRequest;
import io.switchboard.api.user.v1.Jwks;
import io.switchboard.api.user.v1.LoginRequest;
import io.switchboard.api.user.v1.LoginResponse;
import io.switchboard.api.user.v1.UserServiceGrpc;
import io.switchboard.hub.HubServer;
import io.switchboard.identity.IdentityFiles;
import io.switchboard.identity.LocalCa;
import io.switchboard.post.PostServer;
import io.switchboard.testkit.Stack;
import io.switchboard.testkit.TcpProxy;
import io.switchboard.tokens.TokenVerifier;
import io.switchboard.user.UserServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Clients check what they dial: records for fake user instances written straight into etcd (past the hub and its
 * identity check) get no call from the gateway, and the token keys a fake publishes are never trusted. One fake has a
 * certificate of the platform's CA for another service (post), the other a certificate naming user from another CA.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class GatewayIdentityTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void fakeUserInstancesInEtcdGetNoCallsAndTheirKeysAreNeverTrusted() throws Exception {
        HubServer hub = STACK.start(HubServer.start(STACK.hubConfig()));
        STACK.start(UserServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        STACK.start(PostServer.start(STACK.serviceConfig(hub.port(), Map.of())));
        GatewayServer gateway = STACK.start(GatewayServer.start(STACK.serviceConfig(hub.port(), Map.of(
                "gateway.login-limit.capacity", "1000", "gateway.login-limit.per-second", "1000"))));
        ECKey attacker = new ECKeyGenerator(Curve.P_256).keyID("attacker-key").generate();

        AtomicInteger calls = new AtomicInteger();
        IdentityFiles otherService = STACK.identityFiles("post");
        IdentityFiles otherCa = LocalCa.openOrCreate(STACK.directory("foreign-ca-"), LocalCa.DEFAULT_TRUST_DOMAIN)
                .ensure("user");
        // each behind a proxy that counts the connections the gateway opens to it
        List<TcpProxy> fakes = List.of(STACK.start(TcpProxy.start("127.0.0.1", fakeUser(otherService, attacker, calls))),
                                       STACK.start(TcpProxy.start("127.0.0.1", fakeUser(otherCa, attacker, calls))));
        try (Client etcd = Client.builder().endpoints(STACK.etcd().endpoint()).build()) {
            // the fakes claim to serve the real user's API (its schema id is in its record for anyone to read), so
            // that the gateway routes to them and only their certificates stand in the way
            String userSchema = await().atMost(Duration.ofSeconds(10)).until(() -> etcd.getKVClient()
                    .get(bytes("/switchboard/services/user/"), GetOption.builder().isPrefix(true).build()).get()
                    .getKvs().stream()
                    .map(kv -> JsonParser.parseString(kv.getValue().toString(StandardCharsets.UTF_8)).getAsJsonObject())
                    .filter(record -> record.has("schemaId"))
                    .map(record -> record.get("schemaId").getAsString())
                    .findFirst().orElse(null), id -> id != null);
            for (int i = 0; i < fakes.size(); i++) {
                Instance fake = Instance.newBuilder().setService("user").setId("fake-" + i).setHost("127.0.0.1")
                        .setPort(fakes.get(i).port()).setSchemaId(userSchema).build();
                etcd.getKVClient().put(bytes("/switchboard/services/user/fake-" + i),
                                       bytes(JsonFormat.printer().print(fake))).get();
            }
        }
        // registrations through the gateway all succeed while it learns both records and dials both fakes (its
        // balancer connects to every instance it is given)
        AtomicInteger phones = new AtomicInteger(1_000_000);
        List<Integer> statuses = new CopyOnWriteArrayList<>();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            statuses.add(register(gateway, phones.incrementAndGet()));
            return fakes.stream().allMatch(proxy -> proxy.connections() > 0);
        });
        for (int i = 0; i < 20; i++) {
            statuses.add(register(gateway, phones.incrementAndGet()));
        }
        assertThat(statuses).as("registrations through the gateway").hasSizeGreaterThan(20).containsOnly(201);
        HttpResponse<String> login = post(gateway, "/user/login",
                                          "{\"phoneNumber\":\"+4479" + phones.get() + "\",\"userPassword\":\"secret pass\"}");
        assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
        String token = JsonParser.parseString(login.body()).getAsJsonObject().get("token").getAsString();
        String userId = JsonParser.parseString(login.body()).getAsJsonObject().get("userId").getAsString();
        assertThat(get(gateway, "/user/me", token).statusCode()).as("the real user's token").isEqualTo(200);

        // a token signed with the key the fakes publish is refused, however often it is tried
        String forged = forge(attacker, userId);
        for (int i = 0; i < 10; i++) {
            assertThat(get(gateway, "/user/me", forged).statusCode()).as("a token of the fakes' key").isEqualTo(401);
        }
        assertThat(calls.get()).as("calls that reached a fake user instance").isZero();
    }

    /* A user service that publishes the attacker's key and counts every call that reaches it, serving TLS. */
    private static int fakeUser(IdentityFiles identity, ECKey attacker, AtomicInteger calls) throws Exception {
        UserServiceGrpc.UserServiceImplBase fake = new UserServiceGrpc.UserServiceImplBase() {
            @Override
            public void getJwks(GetJwksRequest request, StreamObserver<Jwks> responses) {
                responses.onNext(Jwks.newBuilder()
                                         .setJson(new JWKSet(attacker.toPublicJWK()).toString()).build());
                responses.onCompleted();
            }

            @Override
            public void login(LoginRequest request, StreamObserver<LoginResponse> responses) {
                responses.onNext(LoginResponse.newBuilder().setToken("fake").build());
                responses.onCompleted();
            }
        };
        ServerInterceptor counter = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                              ServerCallHandler<Q, A> next) {
                calls.incrementAndGet();
                return next.startCall(call, headers);
            }
        };
        Server server = NettyServerBuilder.forPort(0)
                .useTransportSecurity(identity.certificate().toFile(), identity.privateKey().toFile())
                .addService(ServerInterceptors.intercept(fake, counter))
                .build().start();
        return STACK.start(server, Server::shutdownNow).getPort();
    }

    private static String forge(ECKey key, String userId) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID())
                                              .type(JOSEObjectType.JWT).build(),
                                      new JWTClaimsSet.Builder().subject(userId).issuer(TokenVerifier.ISSUER)
                                              .audience(TokenVerifier.AUDIENCE).issueTime(new Date())
                                              .expirationTime(Date.from(Instant.now().plusSeconds(600)))
                                              .jwtID(UUID.randomUUID().toString()).build());
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }

    private static int register(GatewayServer gateway, int phone) throws Exception {
        return post(gateway, "/user/register", "{\"phoneNumber\":\"+4479" + phone + "\",\"userPassword\":\"secret pass\"}")
                .statusCode();
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    private static HttpResponse<String> get(GatewayServer gateway, String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                .timeout(Duration.ofSeconds(10));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(GatewayServer gateway, String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + path))
                                 .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                                 .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                         HttpResponse.BodyHandlers.ofString());
    }
}
