package io.switchboard.hub.ui;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.helidon.config.Config;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.switchboard.hub.etcd.EtcdProbe;
import io.switchboard.hub.etcd.EtcdStore;
import io.switchboard.hub.view.InstanceView;

/**
 * The registry dashboard, mounted at {@code /ui}: the page, its script and style (classpath resources, nothing
 * from elsewhere), the JSON API under {@code /ui/api/services}, the live feed at {@code /ui/api/events} and the HTTP
 * routes the registered schemas give at {@code /ui/api/routes}.
 * Read-only. Every response carries a Content-Security-Policy that allows only this origin, and
 * {@code X-Content-Type-Options: nosniff}; errors are JSON, {@code {"error": {"code", "message"}}}. Thread safe.
 */
public final class UiService implements HttpService, AutoCloseable {
    private static final Gson GSON = new Gson();
    private static final Pattern SERVICE = Pattern.compile("[a-z0-9-]{1,63}");
    private static final Duration LEASE_WAIT = Duration.ofSeconds(2);
    private static final HeaderName CSP = HeaderNames.create("Content-Security-Policy");
    private static final HeaderName REFERRER_POLICY = HeaderNames.create("Referrer-Policy");
    private static final String POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                         + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private final Dashboard dashboard;
    private final DashboardStream stream;
    private final DashboardRoutes routes;
    private final Asset page = Asset.load("index.html", "text/html; charset=UTF-8");
    private final Asset script = Asset.load("app.js", "text/javascript; charset=UTF-8");
    private final Asset style = Asset.load("app.css", "text/css; charset=UTF-8");

    private UiService(Dashboard dashboard, DashboardRoutes routes, int maxStreams) {
        this.dashboard = dashboard;
        this.routes = routes;
        this.stream = new DashboardStream(dashboard, maxStreams);
    }

    /**
     * The dashboard over a hub's view, or nothing when {@code ui.enabled} is false.
     *
     * @param config the {@code ui} node: {@code enabled} (default true), {@code max-streams} (default 64)
     * @param store  etcd, for lease TTLs
     * @param view   the hub's instance view
     * @param probe  the hub's etcd probe
     * @return the service, empty when disabled
     */
    public static Optional<UiService> create(Config config, EtcdStore store, InstanceView view, EtcdProbe probe) {
        if (!config.get("enabled").asBoolean().orElse(true)) {
            return Optional.empty();
        }
        Dashboard dashboard = new Dashboard(view, probe, new LeaseClock(store, probe::reachable));
        UiService ui = new UiService(dashboard, new DashboardRoutes(view, store),
                                     config.get("max-streams").asInt().orElse(64));
        view.onChange(ui.stream::viewChanged);
        return Optional.of(ui);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.any(UiService::secure)
                .get("/", (req, res) -> page.send(res))
                .get("/app.js", (req, res) -> script.send(res))
                .get("/app.css", (req, res) -> style.send(res))
                .get("/api/services", (req, res) -> json(res, dashboard.services(LEASE_WAIT)))
                .get("/api/services/{name}", this::service)
                .get("/api/events", stream::serve)
                .get("/api/routes", (req, res) -> json(res, routes.routes()))
                .any((req, res) -> error(res, Status.NOT_FOUND_404, "NOT_FOUND", "no such dashboard resource"));
    }

    /**
     * Dashboard streams open now.
     *
     * @return count
     */
    public int openStreams() {
        return stream.openStreams();
    }

    /**
     * Ends every dashboard stream; browsers reconnect to another replica or when this one is back.
     */
    @Override
    public void close() {
        stream.close();
    }

    private void service(ServerRequest req, ServerResponse res) {
        String name = req.path().pathParameters().get("name");
        if (!SERVICE.matcher(name).matches()) {
            // hostile input is not echoed back
            error(res, Status.BAD_REQUEST_400, "INVALID_ARGUMENT", "service names match [a-z0-9-]{1,63}");
            return;
        }
        dashboard.service(name, LEASE_WAIT).ifPresentOrElse(
                json -> json(res, json),
                () -> error(res, Status.NOT_FOUND_404, "NOT_FOUND", "no live instance of service " + name));
    }

    private static void secure(ServerRequest req, ServerResponse res) {
        res.header(CSP, POLICY);
        res.header(HeaderNames.X_CONTENT_TYPE_OPTIONS, "nosniff");
        res.header(REFERRER_POLICY, "no-referrer");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.next();
    }

    private static void json(ServerResponse res, JsonObject json) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(GSON.toJson(json));
    }

    static void error(ServerResponse res, Status status, String code, String message) {
        JsonObject error = new JsonObject();
        error.addProperty("code", code);
        error.addProperty("message", message);
        JsonObject body = new JsonObject();
        body.add("error", error);
        res.status(status);
        json(res, body);
    }

    private record Asset(byte[] bytes, String contentType) {
        static Asset load(String name, String contentType) {
            try (InputStream in = UiService.class.getResourceAsStream(name)) {
                if (in == null) {
                    throw new IllegalStateException("dashboard resource " + name + " missing from the jar");
                }
                return new Asset(in.readAllBytes(), contentType);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read dashboard resource " + name, e);
            }
        }

        void send(ServerResponse res) {
            res.header(HeaderNames.CONTENT_TYPE, contentType);
            res.send(bytes);
        }
    }
}
