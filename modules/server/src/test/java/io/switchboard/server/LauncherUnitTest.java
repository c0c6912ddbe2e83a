package io.switchboard.server;

import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import io.helidon.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LauncherUnitTest {
    private final List<LogRecord> records = new ArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void listen() {
        Logger.getLogger(Launcher.class.getName()).addHandler(handler);
    }

    @AfterEach
    void stopListening() {
        Logger.getLogger(Launcher.class.getName()).removeHandler(handler);
    }

    @Test
    void aComponentThatStartsIsReturned() {
        AutoCloseable server = () -> { };
        assertThat(Launcher.start("hub", () -> server)).isSameAs(server);
        assertThat(records).isEmpty();
    }

    @Test
    void aMisconfiguredComponentIsOneLogLineWithoutAStackTrace() {
        assertThat(Launcher.start("post", () -> {
            throw new IllegalArgumentException("post has no identity: set tls.certificate");
        })).isNull();
        assertThat(Launcher.start("hub", () -> {
            throw new UncheckedIOException("cannot load the TLS identity: /etc/tls/tls.crt",
                                           new AccessDeniedException("/etc/tls/tls.crt"));
        })).isNull();
        assertThat(Launcher.start("gateway", () -> {
            throw new ConfigException("gateway.login-limit.capacity: not a number");
        })).isNull();

        assertThat(records).extracting(LogRecord::getMessage).containsExactly(
                "post cannot start: post has no identity: set tls.certificate",
                "hub cannot start: cannot load the TLS identity: /etc/tls/tls.crt (AccessDeniedException)",
                "gateway cannot start: gateway.login-limit.capacity: not a number");
        assertThat(records).allSatisfy(record -> assertThat(record.getThrown()).isNull());
    }

    @Test
    void anyOtherFailureIsABugAndKeepsItsStackTrace() {
        assertThatThrownBy(() -> Launcher.start("hub", () -> {
            throw new NullPointerException("a bug");
        })).isInstanceOf(NullPointerException.class).hasMessage("a bug");
        assertThatThrownBy(() -> Launcher.start("hub", () -> {
            throw new Exception("checked");
        })).isInstanceOf(IllegalStateException.class).hasMessage("hub failed to start").hasRootCauseMessage("checked");
        assertThat(records).isEmpty();
    }

    @Test
    void aReasonNamesEachCauseOnce() {
        Exception nested = new UncheckedIOException("cannot read the key /k: denied",
                                                    new java.io.IOException("denied", new AccessDeniedException("/k")));
        assertThat(Launcher.reason(nested)).isEqualTo("cannot read the key /k: denied (IOException) (AccessDeniedException)");
    }
}
