package io.switchboard.it;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP API through a gateway, as a client calls it.
 */
final class Api {
    static final Pattern TOKEN = Pattern.compile("\"token\":\"([^\"]+)\"");
    static final Pattern ID = Pattern.compile("\"id\":\"([^\"]+)\"");
    static final String PASSWORD = "password 1";
    private static final AtomicLong REQUESTS = new AtomicLong();

    private Api() {
    }

    static String credentials(String phone) {
        return "{\"phoneNumber\":\"" + phone + "\",\"userPassword\":\"" + PASSWORD + "\"}";
    }

    /** Registers a user and logs in: the token. */
    static String registerAndLogin(int gatewayPort, String phone) {
        assertThat(send(gatewayPort, "POST", "/user/register", credentials(phone), null).statusCode()).isEqualTo(201);
        return find(TOKEN, send(gatewayPort, "POST", "/user/login", credentials(phone), null));
    }

    static String find(Pattern pattern, HttpResponse<String> response) {
        Matcher m = pattern.matcher(response.body());
        assertThat(m.find()).as(response.body()).isTrue();
        return m.group(1);
    }

    /**
     * A request with an optional JSON body and bearer token, and its own request id (it-N, which the gateway logs);
     * throws when no answer came, naming the request id.
     */
    static HttpResponse<String> send(int port, String method, String path, String body, String token) {
        String id = "it-" + REQUESTS.incrementAndGet();
        HttpRequest.Builder request = HttpRequest.newBuilder(Components.url(port, path))
                .timeout(Duration.ofSeconds(10))
                .header("X-Request-Id", id)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            return Components.HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException("request " + id + " failed: " + e, e);
        }
    }
}
