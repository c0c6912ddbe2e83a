package io.switchboard.gateway;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.switchboard.hub.HubServer;
import io.switchboard.testkit.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a client can make the gateway's edge hold, with the limits of the gateway's own application.yaml: connections
 * at once, streams per HTTP/2 connection, the size of a request's head. Raw sockets, so that nothing between the test
 * and the gateway bends the bytes.
 */
@Timeout(value = 60, unit = SECONDS)
class GatewayEdgeLimitsTest {
    @RegisterExtension
    static final Stack STACK = new Stack();

    @Test
    void anHttp2ClientIsToldItsStreamAndHeaderLimitsInTheGatewaysSettings() throws Exception {
        GatewayServer gateway = gateway(Map.of());
        try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            // HTTP/2 with prior knowledge (h2c): the preface, then an empty SETTINGS frame
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
            out.flush();
            Map<Integer, Long> settings = serverSettings(new DataInputStream(socket.getInputStream()));
            assertThat(settings).as("SETTINGS_MAX_CONCURRENT_STREAMS").containsEntry(0x3, 128L);
            assertThat(settings).as("SETTINGS_MAX_HEADER_LIST_SIZE").containsEntry(0x6, 16_384L);
        }
    }

    @Test
    void aRequestHeadAtTheLimitIsServedAndOneByteOverIsRefused() throws Exception {
        GatewayServer gateway = gateway(Map.of());
        // server.protocols.http_1_1.max-headers-size: 16384 bytes of header lines, each with its CRLF (not the blank one)
        String head = "GET /openapi.json HTTP/1.1\r\nHost: x\r\n";
        int fill = 16_384 - "Host: x\r\n".length() - "X-Fill: \r\n".length();
        assertThat(status(gateway, head + "X-Fill: " + "a".repeat(fill) + "\r\n\r\n")).isEqualTo(200);
        assertThat(status(gateway, head + "X-Fill: " + "a".repeat(fill + 1) + "\r\n\r\n")).isEqualTo(400);
        // server.protocols.http_1_1.max-prologue-length: a request line shorter than 4096 bytes
        String target = "/openapi.json?q=";
        int query = 4095 - "GET ".length() - target.length() - " HTTP/1.1".length();
        assertThat(status(gateway, "GET " + target + "q".repeat(query) + " HTTP/1.1\r\nHost: x\r\n\r\n")).isEqualTo(200);
        assertThat(status(gateway, "GET " + target + "q".repeat(query + 1) + " HTTP/1.1\r\nHost: x\r\n\r\n"))
                .isEqualTo(414);
        assertThat(status(gateway, head + "\r\n")).as("the gateway still serves").isEqualTo(200);
    }

    @Test
    void connectionsBeyondTheLimitWaitUntilOneCloses() throws Exception {
        GatewayServer gateway = gateway(Map.of("server.max-tcp-connections", "4"));
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Socket socket = new Socket("127.0.0.1", gateway.port());
                socket.setSoTimeout(5_000);
                assertThat(exchange(socket, "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"))
                        .as("connection %d of 4", i + 1).isEqualTo(200);
                held.add(socket);
            }
            try (Socket fifth = new Socket("127.0.0.1", gateway.port())) {
                fifth.setSoTimeout(1_000);
                OutputStream out = fifth.getOutputStream();
                out.write("GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = fifth.getInputStream();
                boolean answered;
                try {
                    answered = in.read() >= 0;
                } catch (SocketTimeoutException e) {
                    answered = false;
                }
                assertThat(answered).as("a fifth connection is not served while four are open").isFalse();
                held.removeFirst().close();
                fifth.setSoTimeout(5_000);
                assertThat(new String(in.readNBytes(12), StandardCharsets.US_ASCII)).as("served once one closed")
                        .endsWith("200");
            }
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
        }
    }

    /* A gateway on its application.yaml, as in production, with the test's settings over it. */
    private static GatewayServer gateway(Map<String, String> settings) {
        HubServer hub = STACK.start(HubServer.start(STACK.hubConfig()));
        Map<String, String> all = new HashMap<>(Map.of("server.port", "0", "server.management-port", "0",
                                                       "hub.endpoints", "127.0.0.1:" + hub.port(),
                                                       "tls.local-ca", STACK.localCa().toString()));
        all.putAll(settings);
        Config config = Config.builder(ConfigSources.create(all), ConfigSources.classpath("application.yaml"))
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .build();
        GatewayServer gateway = STACK.start(GatewayServer.start(config));
        // ready: the hub has answered, and the gateway's own paths answer 200
        HttpRequest ready = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + gateway.managementPort()
                                                              + "/observe/health/ready")).build();
        await().atMost(Duration.ofSeconds(10)).until(
                () -> STACK.http().send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
        return gateway;
    }

    private static int status(GatewayServer gateway, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout(5_000);
            return exchange(socket, request);
        }
    }

    /* Sends a request and reads its answer's status line: the status, or -1 when the connection closed first. */
    private static int exchange(Socket socket, String request) throws IOException {
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        InputStream in = socket.getInputStream();
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
            line.append((char) c);
        }
        if (line.length() < 12) {
            return -1;
        }
        // drain the rest of the answer's head and its body (Content-Length), for the next request on the socket
        int length = 0;
        for (String header = readLine(in); !header.isEmpty(); header = readLine(in)) {
            if (header.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(header.substring(15).trim());
            }
        }
        in.readNBytes(length);
        return Integer.parseInt(line.substring(9, 12));
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    /* The server's first SETTINGS frame: identifier to value. */
    private static Map<Integer, Long> serverSettings(DataInputStream in) throws IOException {
        while (true) {
            int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
            int type = in.readUnsignedByte();
            int flags = in.readUnsignedByte();
            in.readInt();
            byte[] payload = in.readNBytes(length);
            if (type == 4 && (flags & 1) == 0) {
                Map<Integer, Long> settings = new HashMap<>();
                DataInputStream values = new DataInputStream(new java.io.ByteArrayInputStream(payload));
                for (int i = 0; i < length / 6; i++) {
                    settings.put(values.readUnsignedShort(), values.readInt() & 0xffffffffL);
                }
                return settings;
            }
        }
    }
}
