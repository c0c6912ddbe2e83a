package io.switchboard.identity;

import java.net.URI;
import java.net.URISyntaxException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Who a workload is: a service of a trust domain, written as a SPIFFE ID ({@code spiffe://<trust-domain>/service/
 * <name>}) in the URI subject alternative name of its certificate, as Istio and Linkerd name workloads. Every
 * instance of a service shares the identity; the hub lets an identity register only under its own service name.
 *
 * @param trustDomain the platform's trust domain, such as {@code switchboard.local}
 * @param service     the service name, as the hub knows it ({@code [a-z0-9-]{1,63}})
 */
public record ServiceIdentity(String trustDomain, String service) {
    /* the hub's own rule for service names, and DNS-label-like trust domains (SPIFFE allows no more) */
    private static final Pattern SERVICE = Pattern.compile("[a-z0-9-]{1,63}");
    private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]{1,255}");
    private static final int URI_SAN = 6;

    /**
     * Checks both parts.
     *
     * @throws IllegalArgumentException when a part breaks its rule
     */
    public ServiceIdentity {
        if (trustDomain == null || !TRUST_DOMAIN.matcher(trustDomain).matches()) {
            throw new IllegalArgumentException("a trust domain is 1 to 255 of a-z, 0-9, '.', '_' and '-'");
        }
        if (service == null || !SERVICE.matcher(service).matches()) {
            throw new IllegalArgumentException("a service name is 1 to 63 of a-z, 0-9 and '-'");
        }
    }

    /**
     * The identity a SPIFFE ID names.
     *
     * @param spiffeId such as {@code spiffe://switchboard.local/service/post}
     * @return the identity
     * @throws IllegalArgumentException when it is not a service's SPIFFE ID
     */
    public static ServiceIdentity parse(String spiffeId) {
        URI uri;
        try {
            uri = new URI(spiffeId);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URI: " + e.getMessage());
        }
        String path = uri.getRawPath();
        if (!"spiffe".equals(uri.getScheme()) || uri.getRawUserInfo() != null || uri.getPort() != -1
            || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getHost() == null
            || path == null || !path.startsWith("/service/")) {
            throw new IllegalArgumentException("not a service's SPIFFE ID (spiffe://<trust-domain>/service/<name>)");
        }
        return new ServiceIdentity(uri.getHost(), path.substring("/service/".length()));
    }

    /**
     * The identity a certificate names: its one SPIFFE URI subject alternative name. A certificate with none, or
     * with more than one (which SPIFFE forbids), names no one.
     *
     * @param certificate a leaf certificate
     * @return the identity, or empty
     */
    public static Optional<ServiceIdentity> of(X509Certificate certificate) {
        List<String> spiffe = spiffeIds(certificate);
        if (spiffe.size() != 1) {
            return Optional.empty();
        }
        try {
            return Optional.of(parse(spiffe.get(0)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /* The certificate's URI subject alternative names that are SPIFFE IDs; empty when it has none or is unreadable. */
    static List<String> spiffeIds(X509Certificate certificate) {
        Collection<List<?>> names;
        try {
            names = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return List.of();
        }
        if (names == null) {
            return List.of();
        }
        List<String> spiffe = new ArrayList<>(1);
        for (List<?> name : names) {
            if (name.size() == 2 && Integer.valueOf(URI_SAN).equals(name.get(0)) && name.get(1) instanceof String uri
                && uri.startsWith("spiffe://")) {
                spiffe.add(uri);
            }
        }
        return spiffe;
    }

    /**
     * The SPIFFE ID.
     *
     * @return {@code spiffe://<trust-domain>/service/<name>}
     */
    public String uri() {
        return "spiffe://" + trustDomain + "/service/" + service;
    }

    @Override
    public String toString() {
        return uri();
    }
}
