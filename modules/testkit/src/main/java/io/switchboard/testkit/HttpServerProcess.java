package io.switchboard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A server run as a process for tests, with an HTTP API on a loopback port: its log in a temporary directory that
 * goes with it, readiness awaited on a path, GETs on its API. Not thread safe.
 */
final class HttpServerProcess implements AutoCloseable {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final String name;
    private final Path dir;
    private final int port;
    private final Process process;

    private HttpServerProcess(String name, Path dir, int port, Process process) {
        this.name = name;
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /**
     * Starts the command with its output in {@code <dir>/<name>.log} and waits until a GET on {@code readyPath}
     * answers 200; stops it and throws, with the log's tail, when it exits or is not ready in time.
     */
    static HttpServerProcess start(String name, Path dir, int port, List<String> command, String readyPath,
                                   Duration timeout) {
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve(name + ".log").toFile())
                    .start();
        } catch (IOException e) {
            ServerFiles.delete(dir);
            throw new UncheckedIOException("cannot start " + command.getFirst(), e);
        }
        HttpServerProcess server = new HttpServerProcess(name, dir, port, process);
        server.awaitReady(readyPath, timeout);
        return server;
    }

    int port() {
        return port;
    }

    /** A GET on the API: the answer, whatever its status. */
    HttpResponse<String> get(String path) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                     .timeout(Duration.ofSeconds(5)).build(),
                             HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(name + " API " + path + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    String logTail() {
        return ServerFiles.tail(dir.resolve(name + ".log"));
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ServerFiles.delete(dir);
    }

    private void awaitReady(String readyPath, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                String tail = logTail();
                close();
                throw new IllegalStateException(name + " exited at start:\n" + tail);
            }
            try {
                if (get(readyPath).statusCode() == 200) {
                    return;
                }
            } catch (UncheckedIOException e) {
                // not listening yet
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while waiting for " + name, e);
            }
        }
        String tail = logTail();
        close();
        throw new IllegalStateException(name + " not ready after " + timeout.toSeconds() + " s:\n" + tail);
    }
}
