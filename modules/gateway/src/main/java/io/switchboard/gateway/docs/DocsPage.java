package io.switchboard.gateway.docs;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The API documentation page, mounted at {@code /docs}: Swagger UI (the {@code org.webjars:swagger-ui} jar, served
 * from the gateway's own class path, nothing from a CDN) rendering {@code /openapi.json}. Every answer carries a
 * Content-Security-Policy that lets the page load scripts, styles and data only from this origin, so "Try it out"
 * calls this gateway and nothing else. {@code /docs/streams} follows the server-streaming routes live in the browser
 * (EventSource). Thread safe.
 */
public final class DocsPage implements HttpService {
    private static final HeaderName CSP = HeaderNames.create("Content-Security-Policy");
    private static final HeaderName REFERRER_POLICY = HeaderNames.create("Referrer-Policy");
    /* Swagger UI draws a few icons from data: URLs; everything else is this origin's */
    private static final String POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
                                         + "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
                                         + "form-action 'none'; frame-ancestors 'none'";
    private static final String WEBJAR = "META-INF/resources/webjars/swagger-ui/";

    private final Asset page = Asset.load("io/switchboard/gateway/docs/index.html", "text/html; charset=UTF-8", null);
    private final Asset init = Asset.load("io/switchboard/gateway/docs/docs.js", "text/javascript; charset=UTF-8", null);
    private final Asset streams = Asset.load("io/switchboard/gateway/docs/streams.html", "text/html; charset=UTF-8", null);
    private final Asset streamsScript = Asset.load("io/switchboard/gateway/docs/streams.js", "text/javascript; charset=UTF-8",
                                                   null);
    private final Asset bundle;
    private final Asset style;

    private DocsPage(String swaggerUi, String version) {
        // the webjar's version tags its files: a browser asks whether they changed and gets 304 until an upgrade
        String etag = "\"swagger-ui-" + version + "\"";
        bundle = Asset.load(swaggerUi + "swagger-ui-bundle.js", "text/javascript; charset=UTF-8", etag);
        style = Asset.load(swaggerUi + "swagger-ui.css", "text/css; charset=UTF-8", etag);
    }

    /**
     * The page, with the Swagger UI of the webjar on the class path.
     *
     * @return the page
     * @throws IllegalStateException when the webjar is missing
     */
    public static DocsPage create() {
        Properties webjar = new Properties();
        try (InputStream in = resource("META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
            webjar.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the swagger-ui webjar's version", e);
        }
        String version = webjar.getProperty("version");
        return new DocsPage(WEBJAR + version + "/", version);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.any(DocsPage::secure)
                .get("/", (req, res) -> page.send(req, res))
                .get("/docs.js", (req, res) -> init.send(req, res))
                .get("/streams", (req, res) -> streams.send(req, res))
                .get("/streams.js", (req, res) -> streamsScript.send(req, res))
                .get("/swagger-ui-bundle.js", (req, res) -> bundle.send(req, res))
                .get("/swagger-ui.css", (req, res) -> style.send(req, res))
                .any((req, res) -> {
                    res.status(Status.NOT_FOUND_404);
                    res.header(HeaderNames.CONTENT_TYPE, "application/json");
                    res.send("{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"no such documentation resource\"}}");
                });
    }

    private static void secure(ServerRequest req, ServerResponse res) {
        res.header(CSP, POLICY);
        res.header(HeaderNames.X_CONTENT_TYPE_OPTIONS, "nosniff");
        res.header(REFERRER_POLICY, "no-referrer");
        res.next();
    }

    private static InputStream resource(String name) {
        InputStream in = DocsPage.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("documentation resource " + name + " missing from the class path");
        }
        return in;
    }

    /* a file of the page; etag: null for ours, which are sent whole every time (they are small) */
    private record Asset(byte[] bytes, String contentType, String etag) {
        static Asset load(String name, String contentType, String etag) {
            try (InputStream in = resource(name)) {
                return new Asset(in.readAllBytes(), contentType, etag);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read documentation resource " + name, e);
            }
        }

        void send(ServerRequest req, ServerResponse res) {
            res.header(HeaderNames.CACHE_CONTROL, "no-cache");
            if (etag != null) {
                res.header(HeaderNames.ETAG, etag);
                if (req.headers().first(HeaderNames.IF_NONE_MATCH).map(tags -> tags.contains(etag)).orElse(false)) {
                    res.status(Status.NOT_MODIFIED_304);
                    res.send();
                    return;
                }
            }
            res.header(HeaderNames.CONTENT_TYPE, contentType);
            res.send(bytes);
        }
    }
}
