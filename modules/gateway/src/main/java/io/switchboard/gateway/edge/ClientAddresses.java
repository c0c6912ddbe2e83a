package io.switchboard.gateway.edge;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import com.google.common.net.InetAddresses;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerRequestHeaders;

/**
 * Who a request comes from, for the per-client limits (configuration {@code gateway.trusted-proxies}).
 * <p>
 * By default the TCP peer: forwarded headers are the client's own words and change nothing. Behind a load balancer
 * or an ingress, every client would then share its addresses, and one client's logins would use up everyone's. With
 * the proxies' networks listed, the gateway walks the header those proxies add ({@code X-Forwarded-For} by default,
 * or RFC 7239's {@code Forwarded}: only the one they maintain, since most pass the other on as the client wrote it)
 * from the right, as Envoy does with its trusted hops: each address a trusted proxy added is believed, and the first
 * one from outside the trusted networks is the client. A chain longer than {@value #MAX_HOPS} hops or an entry that
 * is not an address (a name, {@code unknown}, an obfuscated identifier) stops the walk at the last address it could
 * believe. Addresses are parsed as literals: no name is ever looked up. An IPv6 client is counted by its /64
 * network, which one client usually holds whole. Immutable, thread safe.
 */
final class ClientAddresses {
    static final HeaderName FORWARDED = HeaderNames.create("Forwarded");
    static final HeaderName X_FORWARDED_FOR = HeaderNames.create("X-Forwarded-For");
    /** The longest chain walked; a longer one is the client's own padding. */
    static final int MAX_HOPS = 16;

    private final List<Network> trusted;
    private final boolean rfc7239;

    private ClientAddresses(List<Network> trusted, boolean rfc7239) {
        this.trusted = trusted;
        this.rfc7239 = rfc7239;
    }

    /**
     * From {@code gateway.trusted-proxies}: comma-separated networks in CIDR notation ({@code 10.0.0.0/8}), or single
     * addresses.
     *
     * @param value  the setting, empty for none
     * @param header the header the proxies add: {@code X-Forwarded-For} or {@code Forwarded}
     * @return the resolver
     * @throws IllegalArgumentException for an entry that is not a network, or another header
     */
    static ClientAddresses trusting(String value, String header) {
        List<Network> networks = new ArrayList<>();
        for (String entry : value.split(",")) {
            if (!entry.isBlank()) {
                networks.add(Network.parse(entry.trim()));
            }
        }
        boolean rfc7239 = header.equalsIgnoreCase(FORWARDED.defaultCase());
        if (!rfc7239 && !header.equalsIgnoreCase(X_FORWARDED_FOR.defaultCase())) {
            throw new IllegalArgumentException("gateway.forwarded-header must be X-Forwarded-For or Forwarded, not '"
                                               + header + "'");
        }
        return new ClientAddresses(List.copyOf(networks), rfc7239);
    }

    /**
     * The client's address, as text.
     *
     * @param peer    the TCP peer
     * @param headers the request's headers
     * @return the address the per-client limits count
     */
    String of(SocketAddress peer, ServerRequestHeaders headers) {
        if (!(peer instanceof InetSocketAddress inet) || inet.getAddress() == null) {
            return String.valueOf(peer);
        }
        InetAddress client = inet.getAddress();
        if (trusted.isEmpty() || !isTrusted(client)) {
            return counted(client);
        }
        List<String> chain = rfc7239 ? forwarded(headers) : xForwardedFor(headers);
        // from the nearest hop outwards: what a trusted hop says is believed
        for (int i = chain.size() - 1, hops = 0; i >= 0 && hops < MAX_HOPS; i--, hops++) {
            Optional<InetAddress> hop = literal(chain.get(i));
            if (hop.isEmpty()) {
                break;
            }
            client = hop.get();
            if (!isTrusted(client)) {
                break;
            }
        }
        return counted(client);
    }

    /* The address as the limits count it: an IPv6 one by its /64 network (zeros after the prefix). */
    private static String counted(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length != 16) {
            return address.getHostAddress();
        }
        Arrays.fill(bytes, 8, 16, (byte) 0);
        try {
            // from the bytes: no name lookup
            return InetAddress.getByAddress(bytes).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private boolean isTrusted(InetAddress address) {
        for (Network network : trusted) {
            if (network.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /* The addresses the proxies added, left (farthest) to right (nearest), from RFC 7239's for= parameters. */
    private static List<String> forwarded(ServerRequestHeaders headers) {
        List<String> chain = new ArrayList<>();
        if (headers.contains(FORWARDED)) {
            for (String value : headers.get(FORWARDED).allValues()) {
                for (String element : value.split(",")) {
                    String forValue = "";
                    for (String pair : element.split(";")) {
                        int equals = pair.indexOf('=');
                        if (equals > 0 && pair.substring(0, equals).trim().toLowerCase(Locale.ROOT).equals("for")) {
                            forValue = pair.substring(equals + 1).trim();
                        }
                    }
                    chain.add(forValue);
                }
            }
        }
        return chain;
    }

    /* The addresses the proxies added, left (farthest) to right (nearest), from X-Forwarded-For. */
    private static List<String> xForwardedFor(ServerRequestHeaders headers) {
        List<String> chain = new ArrayList<>();
        if (headers.contains(X_FORWARDED_FOR)) {
            for (String value : headers.get(X_FORWARDED_FOR).allValues()) {
                chain.addAll(Arrays.asList(value.split(",")));
            }
        }
        return chain;
    }

    /* An address literal, with Forwarded's quotes, brackets and port taken off; never a name lookup. */
    static Optional<InetAddress> literal(String text) {
        String value = text.trim();
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            value = value.substring(1, value.length() - 1);
        }
        if (value.startsWith("[")) {
            int close = value.indexOf(']');
            value = close < 0 ? "" : value.substring(1, close);
        } else if (value.indexOf(':') > 0 && value.indexOf(':') == value.lastIndexOf(':')) {
            // IPv4 with a port
            value = value.substring(0, value.indexOf(':'));
        }
        return InetAddresses.isInetAddress(value) ? Optional.of(InetAddresses.forString(value)) : Optional.empty();
    }

    /** A network in CIDR notation. */
    private record Network(byte[] prefix, int bits) {
        static Network parse(String cidr) {
            int slash = cidr.indexOf('/');
            String address = slash < 0 ? cidr : cidr.substring(0, slash);
            if (!InetAddresses.isInetAddress(address)) {
                throw new IllegalArgumentException("gateway.trusted-proxies: '" + cidr + "' is not a network "
                                                   + "(10.0.0.0/8, fd00::/8 or one address)");
            }
            byte[] bytes = InetAddresses.forString(address).getAddress();
            int bits = bytes.length * 8;
            if (slash >= 0) {
                try {
                    bits = Integer.parseInt(cidr.substring(slash + 1));
                } catch (NumberFormatException e) {
                    bits = -1;
                }
                if (bits < 0 || bits > bytes.length * 8) {
                    throw new IllegalArgumentException("gateway.trusted-proxies: '" + cidr + "' has a prefix length "
                                                       + "outside 0.." + bytes.length * 8);
                }
            }
            return new Network(bytes, bits);
        }

        boolean contains(InetAddress address) {
            byte[] bytes = address.getAddress();
            if (bytes.length != prefix.length) {
                return false;
            }
            for (int bit = 0; bit < bits; bit++) {
                int mask = 0x80 >>> (bit % 8);
                if ((bytes[bit / 8] & mask) != (prefix[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }
}
