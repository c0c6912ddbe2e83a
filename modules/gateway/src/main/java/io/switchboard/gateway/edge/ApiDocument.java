package io.switchboard.gateway.edge;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import com.google.gson.JsonObject;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.switchboard.gateway.docs.OpenApi;
import io.switchboard.gateway.routes.RouteTable;

/**
 * {@code GET /openapi.json}: the OpenAPI document of the routes served now, made once per route table. Its ETag (and
 * {@code info.version}) is the hash of its content, so it changes exactly when the API does; a request with that ETag
 * in {@code If-None-Match} gets 304. Thread safe.
 */
public final class ApiDocument implements Handler {
    private static final System.Logger LOG = System.getLogger(ApiDocument.class.getName());
    /* how many distinct reasons for leaving a route out are remembered, so that each is logged once */
    private static final int MAX_TOLD = 1_000;

    private final Supplier<RouteTable> routes;
    private final boolean docs;
    private final Set<String> told = ConcurrentHashMap.newKeySet();
    private volatile Rendered rendered;

    ApiDocument(Supplier<RouteTable> routes, boolean docs) {
        this.routes = routes;
        this.docs = docs;
    }

    @Override
    public void handle(ServerRequest request, ServerResponse response) {
        String requestId = GatewayHandler.requestId(request, response);
        RouteTable table = routes.get();
        if (table == null) {
            GatewayHandler.error(response, 503, "UNAVAILABLE", "the gateway has not learned its routes yet", requestId);
            return;
        }
        Rendered current = render(table);
        response.header(HeaderNames.ETAG, current.etag());
        // clients may keep it, but must ask whether it changed before they use it again
        response.header(HeaderValues.CACHE_NO_CACHE);
        boolean unchanged = request.headers().first(HeaderNames.IF_NONE_MATCH)
                .map(tags -> tags.contains(current.etag()) || tags.strip().equals("*")).orElse(false);
        if (unchanged) {
            response.status(Status.NOT_MODIFIED_304);
            response.send();
            return;
        }
        response.header(HeaderNames.CONTENT_TYPE, "application/json");
        response.send(current.bytes());
    }

    private Rendered render(RouteTable table) {
        Rendered last = rendered;
        if (last != null && last.table() == table) {
            return last;
        }
        JsonObject document = OpenApi.of(table, "Switchboard API", "", this::answeredByTheGateway, this::leftOut);
        String hash = sha256(document.toString()).substring(0, 16);
        document.getAsJsonObject("info").addProperty("version", hash);
        Rendered made = new Rendered(table, document.toString().getBytes(StandardCharsets.UTF_8), "\"" + hash + "\"");
        rendered = made;
        return made;
    }

    /* the gateway's own paths: a service's route there is never reached */
    private boolean answeredByTheGateway(String template) {
        return template.equals("/openapi.json") || docs && (template.equals("/docs") || template.startsWith("/docs/"));
    }

    private void leftOut(String why) {
        if (told.size() < MAX_TOLD && told.add(why)) {
            LOG.log(System.Logger.Level.WARNING, "route left out of the API document: " + why);
        }
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private record Rendered(RouteTable table, byte[] bytes, String etag) {
    }
}
