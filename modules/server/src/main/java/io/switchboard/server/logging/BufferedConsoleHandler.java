package io.switchboard.server.logging;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.StreamHandler;

/**
 * Logs to standard output in {@link LineFormatter} lines through a buffer: written out every 100 ms, at once for
 * a warning or an error, and when logging shuts down. JUL's {@code ConsoleHandler} flushes after every record, which
 * in an access log is one write system call per request. Configure it in logging.properties:
 * {@code handlers=io.switchboard.server.logging.BufferedConsoleHandler}.
 */
public final class BufferedConsoleHandler extends StreamHandler {
    private static final long FLUSH_MILLIS = 100;

    private volatile boolean closed;

    /**
     * A handler on standard output (JUL creates it from logging.properties).
     */
    public BufferedConsoleHandler() {
        this(new FileOutputStream(FileDescriptor.out));
    }

    BufferedConsoleHandler(OutputStream out) {
        super(new BufferedOutputStream(out, 64 * 1024), new LineFormatter());
        Thread.ofPlatform().daemon().name("log-flush").start(() -> {
            while (!closed) {
                try {
                    Thread.sleep(FLUSH_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
                flush();
            }
        });
    }

    @Override
    public synchronized void publish(LogRecord record) {
        super.publish(record);
        if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
            flush();
        }
    }

    /** Flushes, and leaves standard output open (as JUL's ConsoleHandler does): logging may be configured again. */
    @Override
    public synchronized void close() {
        closed = true;
        flush();
    }
}
