package io.switchboard.server.logging;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One line per record, {@code 2026-11-24T14:15:33.730 INFO io.switchboard.gateway.access: GET /post/42 200 ...},
 * then the stack trace when the record carries one. The same layout as the {@code SimpleFormatter} pattern in our
 * logging.properties, without {@code String.format}, which costs more than the rest of an access-log line.
 */
public final class LineFormatter extends Formatter {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS")
            .withZone(ZoneId.systemDefault());

    @Override
    public String format(LogRecord record) {
        StringBuilder line = new StringBuilder(160);
        TIME.formatTo(record.getInstant(), line);
        line.append(' ').append(record.getLevel().getName()).append(' ').append(record.getLoggerName()).append(": ")
                .append(formatMessage(record));
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            line.append(System.lineSeparator()).append(trace.toString().stripTrailing());
        }
        return line.append(System.lineSeparator()).toString();
    }
}
