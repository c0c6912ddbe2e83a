package io.switchboard.server.logging;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class BufferedConsoleHandlerUnitTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @Test
    void linesHaveTheLogLayoutAndReachTheOutputWithoutAnExplicitFlush() {
        BufferedConsoleHandler handler = new BufferedConsoleHandler(out);
        LogRecord record = new LogRecord(Level.INFO, "GET /post/42 200 3ms id-1 upstream=post@127.0.0.1:8005");
        record.setLoggerName("io.switchboard.gateway.access");
        handler.publish(record);
        await().atMost(Duration.ofSeconds(2)).until(() -> !text().isEmpty());
        assertThat(text()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO io\\.switchboard\\.gateway\\.access: "
                                   + "GET /post/42 200 3ms id-1 upstream=post@127\\.0\\.0\\.1:8005\\R");
    }

    @Test
    void aWarningIsWrittenAtOnceWithItsStackTrace() {
        BufferedConsoleHandler handler = new BufferedConsoleHandler(out);
        LogRecord record = new LogRecord(Level.WARNING, "could not deregister {0}");
        record.setLoggerName("io.switchboard.registry");
        record.setParameters(new Object[] {"post/post-1"});
        record.setThrown(new IOException("connection refused"));
        handler.publish(record);
        assertThat(text()).contains(" WARNING io.switchboard.registry: could not deregister post/post-1")
                .contains("java.io.IOException: connection refused")
                .contains("at io.switchboard.server.logging.BufferedConsoleHandlerUnitTest");
    }

    @Test
    void closingFlushesAndLeavesTheOutputOpen() {
        boolean[] outputClosed = new boolean[1];
        ByteArrayOutputStream target = new ByteArrayOutputStream() {
            @Override
            public void close() {
                outputClosed[0] = true;
            }
        };
        BufferedConsoleHandler handler = new BufferedConsoleHandler(target);
        LogRecord record = new LogRecord(Level.INFO, "gateway stopped");
        record.setLoggerName("io.switchboard.gateway.GatewayServer");
        handler.publish(record);
        handler.close();
        assertThat(target.toString(StandardCharsets.UTF_8)).endsWith("gateway stopped" + System.lineSeparator());
        assertThat(outputClosed[0]).as("standard output closed").isFalse();
    }

    private String text() {
        synchronized (out) {
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
