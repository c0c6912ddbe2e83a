package io.switchboard.gateway.edge;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import io.helidon.http.HeaderNames;
import io.helidon.http.ServerRequestHeaders;
import io.helidon.http.WritableHeaders;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClientAddressesUnitTest {
    private static final ClientAddresses BEHIND_INGRESS = ClientAddresses.trusting("10.0.0.0/8, fd00::/8, 192.168.1.7",
                                                                                   "X-Forwarded-For");
    private static final ClientAddresses BEHIND_RFC7239 = ClientAddresses.trusting("10.0.0.0/8", "Forwarded");

    @Test
    void withNoTrustedProxyForwardedHeadersChangeNothing() {
        ClientAddresses none = ClientAddresses.trusting("", "X-Forwarded-For");
        assertThat(none.of(peer("10.1.2.3"), headers(Map.of("X-Forwarded-For", "203.0.113.9")))).isEqualTo("10.1.2.3");
        assertThat(none.of(peer("10.1.2.3"), headers(Map.of("Forwarded", "for=203.0.113.9")))).isEqualTo("10.1.2.3");
    }

    @Test
    void anUntrustedPeersForwardedHeadersAreItsOwnWords() {
        assertThat(BEHIND_INGRESS.of(peer("203.0.113.50"), headers(Map.of("X-Forwarded-For", "198.51.100.1"))))
                .isEqualTo("203.0.113.50");
    }

    @Test
    void theFirstAddressFromOutsideTheTrustedNetworksIsTheClient() {
        // client -> ingress 10.0.0.5 -> proxy 10.0.0.9 -> gateway; the client put a spoofed address first
        assertThat(BEHIND_INGRESS.of(peer("10.0.0.9"),
                                     headers(Map.of("X-Forwarded-For", "1.2.3.4, 198.51.100.7, 10.0.0.5"))))
                .isEqualTo("198.51.100.7");
        assertThat(BEHIND_INGRESS.of(peer("192.168.1.7"), headers(Map.of("X-Forwarded-For", "198.51.100.7"))))
                .isEqualTo("198.51.100.7");
        assertThat(BEHIND_INGRESS.of(peer("192.168.1.8"), headers(Map.of("X-Forwarded-For", "198.51.100.7"))))
                .isEqualTo("192.168.1.8");
        // only the header the proxies keep: a Forwarded the client wrote itself is passed on by an X-Forwarded-For
        // proxy untouched, and changes nothing
        assertThat(BEHIND_INGRESS.of(peer("10.0.0.9"), headers(Map.of("Forwarded", "for=1.2.3.4",
                                                                       "X-Forwarded-For", "198.51.100.99"))))
                .isEqualTo("198.51.100.99");
        assertThat(BEHIND_INGRESS.of(peer("10.0.0.9"), headers(Map.of("Forwarded", "for=1.2.3.4")))).isEqualTo("10.0.0.9");
        // RFC 7239 proxies, with ports, quotes and IPv6 brackets; an IPv6 client counts by its /64
        assertThat(BEHIND_RFC7239.of(peer("10.0.0.9"), headers(Map.of(
                "Forwarded", "for=192.0.2.60;proto=https, For=\"[2001:db8:cafe::17]:4711\";by=10.0.0.9",
                "X-Forwarded-For", "198.51.100.99"))))
                .isEqualTo("2001:db8:cafe:0:0:0:0:0");
        assertThat(BEHIND_RFC7239.of(peer("10.0.0.9"), headers(Map.of("Forwarded", "for=\"192.0.2.60:8443\""))))
                .isEqualTo("192.0.2.60");
        // every hop trusted: the farthest one
        assertThat(BEHIND_INGRESS.of(peer("10.0.0.9"), headers(Map.of("X-Forwarded-For", "10.3.3.3, 10.2.2.2"))))
                .isEqualTo("10.3.3.3");
        // no header: the trusted peer itself
        assertThat(BEHIND_INGRESS.of(peer("10.0.0.9"), headers(Map.of()))).isEqualTo("10.0.0.9");
        assertThat(BEHIND_INGRESS.of(peer("fd00::1"), headers(Map.of("X-Forwarded-For", "2001:db8::5:1:2:3"))))
                .isEqualTo("2001:db8:0:0:0:0:0:0");
    }

    @Test
    void whatIsNotAnAddressStopsTheWalkAtTheLastBelievedHop() {
        assertThat(BEHIND_INGRESS.of(peer("10.0.0.9"), headers(Map.of("X-Forwarded-For", "198.51.100.7, evil.example"))))
                .isEqualTo("10.0.0.9");
        assertThat(BEHIND_INGRESS.of(peer("10.0.0.9"), headers(Map.of("X-Forwarded-For", "198.51.100.7, , 10.0.0.5"))))
                .isEqualTo("10.0.0.5");
        assertThat(BEHIND_RFC7239.of(peer("10.0.0.9"), headers(Map.of("Forwarded", "for=unknown"))))
                .isEqualTo("10.0.0.9");
        assertThat(BEHIND_RFC7239.of(peer("10.0.0.9"), headers(Map.of("Forwarded", "for=_hidden, for=10.0.0.5"))))
                .isEqualTo("10.0.0.5");
        assertThat(BEHIND_INGRESS.of(peer("10.0.0.9"), headers(Map.of("X-Forwarded-For", "[::1")))).isEqualTo("10.0.0.9");
        assertThat(BEHIND_INGRESS.of(peer("10.0.0.9"), headers(Map.of("X-Forwarded-For", "999.1.1.1"))))
                .isEqualTo("10.0.0.9");
    }

    @Test
    void atMostSixteenHopsAreWalked() {
        // 15 trusted hops then the client: found; 16 trusted hops then the client: the walk ends on the 16th hop
        String fifteen = IntStream.range(0, 15).mapToObj(i -> "10.0.0." + (i + 1)).collect(Collectors.joining(", "));
        assertThat(BEHIND_INGRESS.of(peer("10.0.0.100"), headers(Map.of("X-Forwarded-For", "198.51.100.7, " + fifteen))))
                .isEqualTo("198.51.100.7");
        String sixteen = IntStream.range(0, 16).mapToObj(i -> "10.0.0." + (i + 1)).collect(Collectors.joining(", "));
        assertThat(BEHIND_INGRESS.of(peer("10.0.0.100"), headers(Map.of("X-Forwarded-For", "198.51.100.7, " + sixteen))))
                .isEqualTo("10.0.0.1");
    }

    @Test
    void aSettingThatIsNotANetworkIsRefused() {
        for (String bad : new String[] {"10.0.0.0/33", "fd00::/129", "10.0.0.0/x", "proxy.internal", "10.0.0/8"}) {
            assertThatThrownBy(() -> ClientAddresses.trusting(bad, "X-Forwarded-For")).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("gateway.trusted-proxies");
        }
        assertThatThrownBy(() -> ClientAddresses.trusting("10.0.0.0/8", "X-Real-IP"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gateway.forwarded-header");
        assertThat(ClientAddresses.trusting("0.0.0.0/0", "x-forwarded-for").of(peer("203.0.113.1"),
                                                           headers(Map.of("X-Forwarded-For", "198.51.100.7"))))
                .isEqualTo("198.51.100.7");
    }

    private static InetSocketAddress peer(String address) {
        return new InetSocketAddress(ClientAddresses.literal(address).orElseThrow(), 40000);
    }

    private static ServerRequestHeaders headers(Map<String, String> values) {
        WritableHeaders<?> headers = WritableHeaders.create();
        values.forEach((name, value) -> headers.add(HeaderNames.create(name), value));
        return ServerRequestHeaders.create(headers);
    }
}
