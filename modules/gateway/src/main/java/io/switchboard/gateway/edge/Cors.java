package io.switchboard.gateway.edge;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

import io.helidon.config.Config;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerRequestHeaders;
import io.helidon.webserver.http.ServerResponse;

/**
 * Cross-origin requests from browsers (configuration {@code gateway.cors}): none by default. A preflight is
 * answered from the route table, with the methods its path really has; an allowed origin's requests get the headers
 * that let its page read the answer, errors included. Credentials (cookies, TLS client certificates) are allowed
 * only for origins listed by name, never for {@code *}.
 * <p>
 * Helidon's CORS support configures methods per path pattern, fixed at start; the gateway's paths come and go with the
 * services, so the few rules are kept here, next to the route table they read. Immutable, thread safe.
 */
final class Cors {
    static final HeaderName ORIGIN = HeaderNames.create("Origin");
    static final HeaderName REQUEST_METHOD = HeaderNames.create("Access-Control-Request-Method");
    static final HeaderName REQUEST_HEADERS = HeaderNames.create("Access-Control-Request-Headers");
    private static final HeaderName ALLOW_ORIGIN = HeaderNames.create("Access-Control-Allow-Origin");
    private static final HeaderName ALLOW_METHODS = HeaderNames.create("Access-Control-Allow-Methods");
    private static final HeaderName ALLOW_HEADERS = HeaderNames.create("Access-Control-Allow-Headers");
    private static final HeaderName ALLOW_CREDENTIALS = HeaderNames.create("Access-Control-Allow-Credentials");
    private static final HeaderName EXPOSE_HEADERS = HeaderNames.create("Access-Control-Expose-Headers");
    private static final HeaderName MAX_AGE = HeaderNames.create("Access-Control-Max-Age");
    private static final String ANY = "*";
    /** More headers than a browser ever asks for in one preflight: a longer list is refused unread. */
    static final int MAX_REQUEST_HEADERS = 32;

    private final Set<String> origins;
    private final boolean anyOrigin;
    private final Set<String> allowedHeaders;
    private final String exposed;
    private final boolean credentials;
    private final long maxAgeSeconds;

    private Cors(Set<String> origins, Set<String> headers, List<String> exposed, boolean credentials, Duration maxAge) {
        this.anyOrigin = origins.contains(ANY);
        this.origins = origins;
        this.allowedHeaders = headers.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        this.exposed = String.join(", ", exposed);
        this.credentials = credentials;
        this.maxAgeSeconds = maxAge.toSeconds();
    }

    /**
     * From the {@code gateway.cors} node. Lists are YAML lists or comma-separated strings (as environment variables
     * give them: {@code GATEWAY_CORS_ALLOWED_ORIGINS=https://app.example.com,https://admin.example.com}).
     *
     * @param config the node
     * @return the rules
     * @throws IllegalArgumentException for an origin that is not {@code scheme://host[:port]} or {@code *}, for
     *                                  credentials with {@code *}, or a max age outside 0 to 24 hours
     */
    static Cors from(Config config) {
        Set<String> origins = new LinkedHashSet<>();
        for (String origin : list(config.get("allowed-origins"), List.of())) {
            if (!origin.equals(ANY) && !isOrigin(origin)) {
                throw new IllegalArgumentException("gateway.cors.allowed-origins: '" + origin + "' is not an origin "
                                                   + "(scheme://host or scheme://host:port, no path) nor *");
            }
            // as browsers send it: scheme and host in lower case, no default port
            origins.add(origin.equals(ANY) ? ANY : serialized(origin));
        }
        boolean credentials = config.get("allow-credentials").asBoolean().orElse(false);
        if (credentials && origins.contains(ANY)) {
            throw new IllegalArgumentException("gateway.cors.allow-credentials needs its origins listed by name, "
                                               + "not *");
        }
        Duration maxAge = config.get("max-age").as(Duration.class).orElse(Duration.ofMinutes(10));
        if (maxAge.isNegative() || maxAge.compareTo(Duration.ofHours(24)) > 0) {
            throw new IllegalArgumentException("gateway.cors.max-age must be between PT0S and PT24H, not " + maxAge);
        }
        return new Cors(origins,
                        new LinkedHashSet<>(list(config.get("allowed-headers"),
                                                 List.of("Authorization", "Content-Type", "X-Request-Id",
                                                         "traceparent", "tracestate"))),
                        list(config.get("exposed-headers"), List.of("X-Request-Id", "Retry-After", "WWW-Authenticate")),
                        credentials, maxAge);
    }

    /** Whether any origin may call: off (the default) adds nothing to any answer. */
    boolean enabled() {
        return !origins.isEmpty();
    }

    /**
     * Whether the request is a preflight: {@code OPTIONS} with an {@code Origin} and the method it asks for.
     *
     * @param method  the request's method
     * @param headers its headers
     * @return whether it is one
     */
    boolean isPreflight(String method, ServerRequestHeaders headers) {
        return enabled() && method.equals("OPTIONS") && headers.contains(ORIGIN) && headers.contains(REQUEST_METHOD);
    }

    /**
     * For an actual request: when its origin is allowed, the headers that let the page read the answer.
     *
     * @param headers  the request's headers
     * @param response the response, before anything is sent
     */
    void decorate(ServerRequestHeaders headers, ServerResponse response) {
        if (!enabled()) {
            return;
        }
        // caches keep answers per origin, whatever it was
        response.header(HeaderNames.VARY, "Origin");
        String origin = headers.first(ORIGIN).orElse(null);
        if (origin != null && allows(origin)) {
            allowOrigin(origin, response);
            if (!exposed.isEmpty()) {
                response.header(EXPOSE_HEADERS, exposed);
            }
        }
    }

    /**
     * Answers a preflight: why it is refused, or null after setting the headers of its 204.
     *
     * @param headers     the preflight's headers
     * @param pathMethods the methods the path has (empty: no such path)
     * @param response    the response
     * @return the refusal's message (403), or null when allowed
     */
    String preflight(ServerRequestHeaders headers, Set<String> pathMethods, ServerResponse response) {
        response.header(HeaderNames.VARY, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
        String origin = headers.first(ORIGIN).orElse("");
        if (!allows(origin)) {
            return "origin not allowed";
        }
        String method = headers.first(REQUEST_METHOD).orElse("");
        if (!pathMethods.contains(method)) {
            return "method " + printable(method) + " not allowed on this path"
                   + (pathMethods.isEmpty() ? "" : " (it has " + String.join(", ", pathMethods) + ")");
        }
        List<String> asked = headers.first(REQUEST_HEADERS).map(Cors::split).orElse(List.of());
        if (asked.size() > MAX_REQUEST_HEADERS) {
            return "more than " + MAX_REQUEST_HEADERS + " request headers asked for";
        }
        for (String header : asked) {
            if (!allowedHeaders.contains(header.toLowerCase(Locale.ROOT))) {
                return "request header " + printable(header) + " not allowed";
            }
        }
        allowOrigin(origin, response);
        response.header(ALLOW_METHODS, String.join(", ", pathMethods));
        if (!asked.isEmpty()) {
            response.header(ALLOW_HEADERS, String.join(", ", asked));
        }
        response.header(MAX_AGE, String.valueOf(maxAgeSeconds));
        return null;
    }

    private boolean allows(String origin) {
        return anyOrigin || origins.contains(origin);
    }

    private void allowOrigin(String origin, ServerResponse response) {
        if (credentials) {
            // listed by name (checked at start): the one origin, and it may send credentials
            response.header(ALLOW_ORIGIN, origin);
            response.header(ALLOW_CREDENTIALS, "true");
        } else {
            response.header(ALLOW_ORIGIN, anyOrigin ? ANY : origin);
        }
    }

    private static String serialized(String origin) {
        URI uri = URI.create(origin);
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        int port = uri.getPort();
        boolean defaultPort = port == -1 || scheme.equals("http") && port == 80 || scheme.equals("https") && port == 443;
        return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
    }

    private static boolean isOrigin(String origin) {
        try {
            URI uri = new URI(origin);
            return (uri.getScheme().equals("http") || uri.getScheme().equals("https")) && uri.getHost() != null
                   && uri.getRawUserInfo() == null && uri.getRawPath().isEmpty() && uri.getRawQuery() == null
                   && uri.getRawFragment() == null;
        } catch (URISyntaxException | NullPointerException e) {
            return false;
        }
    }

    private static List<String> list(Config node, List<String> defaults) {
        if (!node.exists()) {
            return defaults;
        }
        List<String> values = node.isLeaf() ? split(node.asString().orElse("")) : node.asList(String.class).orElse(List.of());
        return values.stream().map(String::trim).filter(v -> !v.isEmpty()).toList();
    }

    private static List<String> split(String value) {
        return Arrays.stream(value.split(",")).map(String::trim).filter(v -> !v.isEmpty()).toList();
    }

    /* a client's value in our message: short and printable */
    private static String printable(String value) {
        String shown = value.length() > 40 ? value.substring(0, 40) + "..." : value;
        return "'" + shown.replaceAll("[^\\x20-\\x7e]", "?") + "'";
    }
}
