package io.switchboard.hub;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import io.switchboard.api.hub.v1.Instance;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class InstanceRecordsUnitTest {
    private static final String KEY = InstanceRecords.key("orders", "orders-1");

    @Test
    void aRecordCarriesItsRegistrationTimeBesideTheInstance() {
        Instance instance = HubFixture.instance("orders", "orders-1", 9001).toBuilder()
                .putMetadata("quote", "\"registeredAt\":\"1999-01-01T00:00:00Z\"}").build();
        Instant at = Instant.parse("2026-11-24T13:43:53.870123Z");

        InstanceRecords.Stored stored = InstanceRecords.read(KEY, InstanceRecords.encode(instance, at)).orElseThrow();

        assertThat(stored.instance()).isEqualTo(instance);
        assertThat(stored.registeredAt()).isEqualTo(at);
    }

    @Test
    void anEmptyInstanceStillMakesValidJson() {
        Instant at = Instant.parse("2026-11-24T13:43:53Z");
        byte[] record = InstanceRecords.encode(Instance.getDefaultInstance(), at);
        assertThat(new String(record, StandardCharsets.UTF_8)).isEqualTo("{\"registeredAt\":\"2026-11-24T13:43:53Z\"}");
        assertThat(InstanceRecords.read(KEY, record).orElseThrow().registeredAt()).isEqualTo(at);
    }

    @Test
    void recordsWrittenBeforeRegistrationTimesStillParse() {
        byte[] old = "{\"host\":\"127.0.0.1\",\"port\":9001}".getBytes(StandardCharsets.UTF_8);
        InstanceRecords.Stored stored = InstanceRecords.read(KEY, old).orElseThrow();
        assertThat(stored.instance().getPort()).isEqualTo(9001);
        assertThat(stored.registeredAt()).isNull();
    }

    @Test
    void anUnreadableRegistrationTimeIsUnknownNotFatal() {
        byte[] odd = "{\"port\":9001,\"registeredAt\":\"yesterday\"}".getBytes(StandardCharsets.UTF_8);
        InstanceRecords.Stored stored = InstanceRecords.read(KEY, odd).orElseThrow();
        assertThat(stored.instance().getPort()).isEqualTo(9001);
        assertThat(stored.registeredAt()).isNull();
    }
}
