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
 * calls this gateway and nothing else. Thread safe.
 */
public final class DocsPage implements HttpService {
    private static final HeaderName CSP = HeaderNames.create("Content-Security-Policy");
    private static final HeaderName REFERRER_POLICY = HeaderNames.create("Referrer-Policy");
    /* Swagger UI draws a few icons from data: URLs; everything else is this origin's */
    private static final String POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
                                         + "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
                                         + "form-action 'none'; frame-ancestors 'none'";
    private static final String WEBJAR = "META-INF/resources/webjars/swagger-ui/";

    private final Asset page = Asset.load("io/switchboard/gateway/docs/index.html", "text/html; charset=UTF-8", false);
    private final Asset init = Asset.load("io/switchboard/gateway/docs/docs.js", "text/javascript; charset=UTF-8", false);
    private final Asset bundle;
    private final Asset style;

    private DocsPage(String swaggerUi) {
        bundle = Asset.load(swaggerUi + "swagger-ui-bundle.js", "text/javascript; charset=UTF-8", true);
        style = Asset.load(swaggerUi + "swagger-ui.css", "text/css; charset=UTF-8", true);
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
        return new DocsPage(WEBJAR + webjar.getProperty("version") + "/");
    }

    @Override
    public void routing(HttpRules rules) {
        rules.any(DocsPage::secure)
                .get("/", (req, res) -> page.send(res))
                .get("/docs.js", (req, res) -> init.send(res))
                .get("/swagger-ui-bundle.js", (req, res) -> bundle.send(res))
                .get("/swagger-ui.css", (req, res) -> style.send(res))
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

    private record Asset(byte[] bytes, String contentType, boolean versioned) {
        static Asset load(String name, String contentType, boolean versioned) {
            try (InputStream in = resource(name)) {
                return new Asset(in.readAllBytes(), contentType, versioned);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read documentation resource " + name, e);
            }
        }

        void send(ServerResponse res) {
            res.header(HeaderNames.CONTENT_TYPE, contentType);
            // Swagger UI changes only with the gateway's build; the page itself is always fetched anew
            res.header(HeaderNames.CACHE_CONTROL, versioned ? "public, max-age=3600" : "no-cache");
            res.send(bytes);
        }
    }
}
