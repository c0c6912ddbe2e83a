package io.switchboard.gateway;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Pattern;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

/**
 * Generates malformed, oversized and hostile HTTP requests (bodies, paths, query strings, headers, tokens, request
 * lines) from a seed, and sends them as raw bytes so that nothing a well-behaved client would refuse to send is
 * left out. No request carries a valid token: every {@code Authorization} it writes is forged or malformed.
 */
final class HostileRequests {
    /* An id that is one clean path segment, so DELETE /post/{id} (and the comment routes) surely reach the route. */
    private static final Pattern PLAIN_ID = Pattern.compile("[A-Za-z0-9_-]+");
    private static final List<String> ROUTES = List.of("/post", "/post/x", "/user/register", "/user/login", "/user/me",
                                                       "/", "/post/", "/observe/../post", "//post", "/POST",
                                                       "/post/x/comments", "/post/x/comments/y", "/user/x/comments");
    private static final List<String> METHODS = List.of("GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD",
                                                        "TRACE", "CONNECT", "FOO", "G\u00c9T");
    private static final List<String> NASTY_SEGMENTS = List.of("%00", "%2e%2e", "..", "%2F..%2F", "%ff%fe", "%", "%zz",
                                                               "%25", "\u00e9", "%C0%AF", "a;b=c", "*", "~", "%0d%0aX:1");
    private static final List<String> CONTENT_TYPES = List.of("application/json", "application/json; charset=utf-8",
                                                              "application/json; charset=latin1", "application/jsonx",
                                                              "text/plain", "", "multipart/form-data; boundary=x",
                                                              "application/x-www-form-urlencoded", "*/*");
    private static final List<String> BODIES = List.of(
            "{", "}", "[]", "null", "true", "0", "\"text\"", "{\"title\":", "{\"title\":\"a\",}", "{'title':'a'}",
            "{\"title\":[1,2]}", "{\"title\":{\"a\":1}}", "{\"pageSize\":1e999}", "{\"pageSize\":-1}",
            "{\"phoneNumber\":null,\"userPassword\":null}", "{\"phoneNumber\":12345678,\"userPassword\":true}",
            "{\"phoneNumber\":\"+491234567890\",\"phoneNumber\":\"+491234567891\"}", "{\"title\":\"\\ud800\"}",
            "{\"title\":\"\\u0000\",\"content\":\"\\u0000\"}", "{\"id\":\"../../etc/passwd\"}",
            "{\"__proto__\":{\"admin\":true}}", "{\"title\":\"<script>alert(1)</script>\"}",
            "{\"text\":\"\\u0000\"}", "{\"text\":{\"a\":1}}", "{\"comment\":{\"text\":\"x\"}}", "{\"text\":null}",
            "{\"postId\":\"../x\",\"author\":\"admin\",\"text\":\"x\"}");

    private final Random random;
    private final String validHost;
    private final List<String> tokens;

    HostileRequests(long seed, int port) throws JOSEException {
        random = new Random(seed);
        validHost = "127.0.0.1:" + port;
        tokens = List.copyOf(forgedTokens().values());
    }

    /**
     * One generated request.
     *
     * @param bytes       what to write on a fresh connection
     * @param onProtected a well-formed request to a route that needs a bearer token (POST /post, GET /user/me,
     *                    DELETE /post/{id}, POST /post/{id}/comments, DELETE /post/{id}/comments/{id}), with a
     *                    forged or malformed token: the gateway must answer 401
     */
    record Request(byte[] bytes, boolean onProtected) {
    }

    /** One hostile request. */
    Request next() {
        return random.nextBoolean() ? new Request(anything(), false) : onARoute();
    }

    /* A well-formed HTTP/1.1 request to a real route, with hostile content: what gets past the HTTP parser. */
    private Request onARoute() {
        // half of the ids are clean segments, so that the routes that need a token are reached often
        String id = random.nextBoolean() ? "p" + random.nextInt(1_000_000) : urlish(random.nextInt(60));
        String other = random.nextBoolean() ? "c" + random.nextInt(1_000_000) : urlish(random.nextInt(60));
        boolean plain = PLAIN_ID.matcher(id).matches();
        String[] route = pick(List.of(new String[] {"POST", "/user/register", "open"},
                                      new String[] {"POST", "/user/login", "open"},
                                      new String[] {"POST", "/post", "protected"},
                                      new String[] {"GET", "/user/me", "protected"},
                                      new String[] {"GET", "/post/" + pick(NASTY_SEGMENTS), "open"},
                                      new String[] {"GET", "/post?" + query(), "open"},
                                      new String[] {"DELETE", "/post/" + id, plain ? "protected" : "open"},
                                      // the comment service's routes: a path variable before a literal, a body field,
                                      // an additional binding, two variables
                                      new String[] {"POST", "/post/" + id + "/comments", plain ? "protected" : "open"},
                                      new String[] {"GET", "/post/" + pick(NASTY_SEGMENTS) + "/comments?" + query(), "open"},
                                      new String[] {"GET", "/user/" + id + "/comments?" + query(), "open"},
                                      new String[] {"DELETE", "/post/" + id + "/comments/" + other,
                                                    plain && PLAIN_ID.matcher(other).matches() ? "protected" : "open"}));
        StringBuilder head = new StringBuilder(route[0]).append(' ').append(route[1]).append(" HTTP/1.1\r\n");
        head.append("Host: ").append(validHost).append("\r\nConnection: close\r\n");
        boolean onProtected = route[2].equals("protected");
        if (onProtected || route[0].equals("DELETE") || random.nextBoolean()) {
            head.append("Authorization: ").append(authorization()).append("\r\n");
        }
        byte[] body = route[0].equals("POST") ? body() : new byte[0];
        head.append("Content-Type: ").append(random.nextInt(4) == 0 ? pick(CONTENT_TYPES) : "application/json")
                .append("\r\nContent-Length: ").append(body.length).append("\r\n\r\n");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes(body);
        return new Request(bytes.toByteArray(), onProtected);
    }

    /* Anything at all: broken request lines, headers and lengths as well. */
    private byte[] anything() {
        String method = pick(METHODS);
        String target = path() + (random.nextInt(3) == 0 ? "?" + query() : "");
        StringBuilder head = new StringBuilder();
        switch (random.nextInt(20)) {
            case 0 -> head.append(method).append(' ').append(target).append(" HTTP/9.9\r\n");
            case 1 -> head.append(method).append("  ").append(target).append("\r\n");
            case 2 -> head.append(garbage(random.nextInt(200))).append("\r\n");
            default -> head.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        }
        head.append("Host: ").append(random.nextInt(10) == 0 ? garbage(30) : validHost).append("\r\n");
        head.append("Connection: close\r\n");
        if (random.nextBoolean()) {
            head.append("Authorization: ").append(authorization()).append("\r\n");
        }
        if (random.nextInt(4) == 0) {
            head.append(pick(List.of("X-Request-Id", "traceparent", "X-Forwarded-For", "Accept", "Transfer-Encoding")))
                    .append(": ").append(random.nextBoolean() ? garbage(random.nextInt(400)) : "x".repeat(9000))
                    .append("\r\n");
        }
        if (random.nextInt(30) == 0) {
            head.append("X-Big: ").append("y".repeat(20_000 + random.nextInt(60_000))).append("\r\n");
        }
        if (random.nextInt(30) == 0) {
            head.append("Bad Header Name: value\r\n");
        }
        byte[] body = body();
        if (body.length > 0 || random.nextBoolean()) {
            head.append("Content-Type: ").append(pick(CONTENT_TYPES)).append("\r\n");
        }
        switch (random.nextInt(12)) {
            case 0 -> head.append("Content-Length: ").append(body.length + 1 + random.nextInt(1 << 20)).append("\r\n");
            case 1 -> head.append("Content-Length: -5\r\n");
            case 2 -> head.append("Content-Length: ").append(body.length).append("\r\nContent-Length: 3\r\n");
            default -> head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes(body);
        return bytes.toByteArray();
    }

    /** The status of the answer to a raw request, or -1 when the gateway closed the connection without one. */
    static Answer send(int port, byte[] request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            try {
                out.write(request);
                out.flush();
                socket.shutdownOutput();
            } catch (IOException e) {
                // the gateway may answer and close before reading an oversized request: read what it said
            }
            InputStream in = socket.getInputStream();
            byte[] answer = in.readNBytes(64 * 1024);
            String text = new String(answer, StandardCharsets.ISO_8859_1);
            if (!text.startsWith("HTTP/1.1 ")) {
                return new Answer(-1, text);
            }
            return new Answer(Integer.parseInt(text.substring(9, 12)), text);
        }
    }

    record Answer(int status, String text) {
        String body() {
            int end = text.indexOf("\r\n\r\n");
            return end < 0 ? "" : text.substring(end + 4);
        }
    }

    private String path() {
        return switch (random.nextInt(6)) {
            case 0 -> pick(ROUTES) + "/" + pick(NASTY_SEGMENTS);
            case 1 -> pick(ROUTES) + "/" + urlish(random.nextInt(40));
            case 2 -> "/post/" + "a".repeat(1_000 + random.nextInt(20_000));
            case 3 -> "/post/" + pick(NASTY_SEGMENTS) + pick(NASTY_SEGMENTS);
            case 4 -> random.nextBoolean() ? "post" : "http://evil.example/post";
            default -> pick(ROUTES);
        };
    }

    private String query() {
        return switch (random.nextInt(6)) {
            case 0 -> "pageSize=" + pick(List.of("-1", "0", "abc", "1e99", "99999999999999999999", "%00", "", "1.5"));
            case 1 -> "pageToken=" + urlish(random.nextInt(300));
            case 2 -> "author=" + "a".repeat(5_000);
            case 3 -> "pageSize=1&pageSize=2&pageSize=" + pick(NASTY_SEGMENTS);
            case 4 -> urlish(random.nextInt(50)) + "=" + urlish(random.nextInt(50));
            default -> "%zz=%";
        };
    }

    private String authorization() {
        return switch (random.nextInt(5)) {
            case 0 -> "Bearer " + pick(tokens);
            case 1 -> "Bearer " + garbage(random.nextInt(500));
            case 2 -> "Bearer " + "A".repeat(5_000);
            case 3 -> pick(List.of("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer  x.y.z", "Digest x", "Bearer a.b"));
            default -> "Bearer " + pick(tokens).replace('A', 'B');
        };
    }

    private byte[] body() {
        return switch (random.nextInt(8)) {
            case 0 -> new byte[0];
            case 1 -> {
                byte[] bytes = new byte[random.nextInt(3_000)];
                random.nextBytes(bytes);
                yield bytes;
            }
            case 2 -> ("[".repeat(50_000) + "]".repeat(50_000)).getBytes(StandardCharsets.UTF_8);
            case 3 -> ("{\"title\":" + "{\"a\":".repeat(20_000) + "1" + "}".repeat(20_001)).getBytes(StandardCharsets.UTF_8);
            case 4 -> ("{\"title\":\"" + "x".repeat(random.nextBoolean() ? 900_000 : 1_100_000) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            case 5 -> garbage(random.nextInt(2_000)).getBytes(StandardCharsets.UTF_8);
            default -> pick(BODIES).getBytes(StandardCharsets.UTF_8);
        };
    }

    /**
     * Tokens a forger could make, by what is wrong with them: no signature, a symmetric one, an unknown key,
     * expired, wrong issuer, malformed.
     *
     * @return token by name
     * @throws JOSEException never, in practice (signing with a fresh EC key)
     */
    static Map<String, String> forgedTokens() throws JOSEException {
        ECKey stranger = new ECKeyGenerator(Curve.P_256).keyID("stranger").generate();
        Instant now = Instant.now();
        JWTClaimsSet valid = new JWTClaimsSet.Builder().issuer("switchboard-user").subject("user-1").audience("switchboard")
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(3600))).jwtID(UUID.randomUUID().toString())
                .build();
        JWTClaimsSet expired = new JWTClaimsSet.Builder(valid).expirationTime(Date.from(now.minusSeconds(60))).build();
        JWTClaimsSet otherIssuer = new JWTClaimsSet.Builder(valid).issuer("someone-else").build();
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        String claims = base64.encodeToString(valid.toString().getBytes(StandardCharsets.UTF_8));
        Map<String, String> tokens = new LinkedHashMap<>();
        tokens.put("alg none", base64.encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "."
                               + claims + ".");
        tokens.put("HS256 with a guessed secret",
                   base64.encodeToString("{\"alg\":\"HS256\",\"kid\":\"k\"}".getBytes(StandardCharsets.UTF_8)) + "."
                   + claims + "." + base64.encodeToString(new byte[32]));
        tokens.put("ES256 with a zero signature and a path as kid",
                   base64.encodeToString("{\"alg\":\"ES256\",\"kid\":\"../../x\"}".getBytes(StandardCharsets.UTF_8))
                   + "." + claims + "." + base64.encodeToString(new byte[64]));
        tokens.put("a foreign key", signed(stranger, valid));
        tokens.put("a foreign key, expired", signed(stranger, expired));
        tokens.put("a foreign key, another issuer", signed(stranger, otherIssuer));
        tokens.put("empty signature", "eyJ" + "A".repeat(100) + "..");
        tokens.put("only dots", "....");
        tokens.put("five parts", "a.b.c.d.e");
        return tokens;
    }

    private static String signed(ECKey key, JWTClaimsSet claims) throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }

    private String garbage(int length) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++) {
            text.append((char) (32 + random.nextInt(95)));
        }
        return text.toString();
    }

    /* Printable garbage without spaces, which would end the request target. */
    private String urlish(int length) {
        return garbage(length).replace(' ', '+');
    }

    private <T> T pick(List<T> values) {
        return values.get(random.nextInt(values.size()));
    }
}
