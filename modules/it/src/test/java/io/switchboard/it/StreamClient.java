package io.switchboard.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 stream from a gateway, read as a client reads it, over a plain socket: the test decides how small its
 * receive buffer is, when it reads, and when it drops the connection. Reads Server-Sent Events or NDJSON lines from a
 * chunked body. Not thread safe.
 */
final class StreamClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final int status;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private final boolean chunked;
    /* a body of known length: the bytes left; -1 for a chunked body or one that ends with the connection */
    private long left;
    private int chunkLeft;
    private boolean ended;

    private StreamClient(Socket socket, int status, InputStream in, boolean chunked) {
        this.socket = socket;
        this.status = status;
        this.in = in;
        this.chunked = chunked;
    }

    /**
     * Sends {@code GET path} and reads the answer's head.
     *
     * @param port          the gateway's port on loopback
     * @param path          path and query
     * @param receiveBuffer the socket's receive buffer, bytes; 0 for the system's
     * @param headers       request headers ("Name: value")
     * @return the stream, its status and headers read
     */
    static StreamClient open(int port, String path, int receiveBuffer, String... headers) {
        Socket socket = new Socket();
        try {
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(15_000);
            StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n");
            for (String header : headers) {
                request.append(header).append("\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String statusLine = rawLine(in);
            if (statusLine == null || !statusLine.startsWith("HTTP/1.1 ")) {
                throw new IllegalStateException("no HTTP answer: " + statusLine);
            }
            Map<String, String> answerHeaders = new LinkedHashMap<>();
            for (String line = rawLine(in); line != null && !line.isEmpty(); line = rawLine(in)) {
                int colon = line.indexOf(':');
                answerHeaders.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
            StreamClient client = new StreamClient(socket, Integer.parseInt(statusLine.substring(9, 12)), in,
                                                   "chunked".equalsIgnoreCase(answerHeaders.get("transfer-encoding")));
            client.headers.putAll(answerHeaders);
            client.left = client.chunked || !answerHeaders.containsKey("content-length") ? -1
                    : Long.parseLong(answerHeaders.get("content-length"));
            return client;
        } catch (IOException e) {
            close(socket);
            throw new UncheckedIOException("cannot open " + path, e);
        }
    }

    int status() {
        return status;
    }

    String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    /** The whole body of an answer that is not a stream (an error). */
    String body() {
        StringBuilder body = new StringBuilder();
        for (String line = line(); line != null; line = line()) {
            body.append(line).append('\n');
        }
        return body.toString().strip();
    }

    /**
     * The next line of the body.
     *
     * @return the line without its end, or null at the body's end
     */
    String line() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = bodyByte();
            if (b < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
            }
            if (b == '\n') {
                return line.toString(StandardCharsets.UTF_8);
            }
            line.write(b);
        }
    }

    /**
     * The next Server-Sent Event, comments and the retry field skipped.
     *
     * @return the event, or null at the body's end
     */
    Event event() {
        String id = null;
        String name = "message";
        StringBuilder data = null;
        while (true) {
            String line = line();
            if (line == null) {
                return null;
            }
            if (line.isEmpty()) {
                if (data != null) {
                    return new Event(id, name, data.toString());
                }
                continue;
            }
            if (line.startsWith(":") || line.startsWith("retry:")) {
                continue;
            }
            if (line.startsWith("id: ")) {
                id = line.substring(4);
            } else if (line.startsWith("event: ")) {
                name = line.substring(7);
            } else if (line.startsWith("data: ")) {
                data = (data == null ? new StringBuilder() : data.append('\n')).append(line.substring(6));
            }
        }
    }

    /**
     * The next NDJSON line that is not a heartbeat (an empty line).
     *
     * @return the line, or null at the body's end
     */
    String jsonLine() {
        for (String line = line(); line != null; line = line()) {
            if (!line.isEmpty()) {
                return line;
            }
        }
        return null;
    }

    private int bodyByte() {
        try {
            if (ended) {
                return -1;
            }
            if (!chunked) {
                if (left == 0) {
                    ended = true;
                    return -1;
                }
                left--;
                return in.read();
            }
            if (chunkLeft == 0) {
                String size = rawLine(in);
                if (size != null && size.isEmpty()) {
                    // the CRLF after the previous chunk's data
                    size = rawLine(in);
                }
                if (size == null) {
                    ended = true;
                    return -1;
                }
                chunkLeft = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (chunkLeft == 0) {
                    ended = true;
                    return -1;
                }
            }
            int b = in.read();
            if (b < 0) {
                ended = true;
                return -1;
            }
            chunkLeft--;
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException("the stream broke", e);
        }
    }

    private static String rawLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b >= 0; b = in.read()) {
            if (b == '\n') {
                String text = line.toString(StandardCharsets.ISO_8859_1);
                return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    /** Drops the connection at once, as a client that goes away. */
    @Override
    public void close() {
        close(socket);
    }

    private static void close(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closed either way
        }
    }

    /**
     * One Server-Sent Event.
     *
     * @param id   its id, null when it had none
     * @param name its type: message, error, reconnect
     * @param data its data
     */
    record Event(String id, String name, String data) {
    }
}
