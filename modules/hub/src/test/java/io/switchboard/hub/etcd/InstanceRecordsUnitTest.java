package io.switchboard.hub.etcd;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import io.switchboard.api.hub.v1.Instance;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class InstanceRecordsUnitTest {
    private static final String KEY = InstanceRecords.key("orders", "orders-1");

    @Test
    void aRecordCarriesItsRegistrationTimeBesideTheInstance() {
        Instance instance = Instance.newBuilder().setService("orders").setId("orders-1").setHost("127.0.0.1").setPort(9001)
                .setVersion("1.0.0").setZone("local").setWeight(100)
                .putMetadata("quote", "\"registeredAt\":\"1999-01-01T00:00:00Z\"}").build();
        Instant at = Instant.parse("2026-11-24T13:43:53.870123Z");

        // a revision the caller sent is not stored: the record's is the revision etcd created it at
        byte[] encoded = InstanceRecords.encode(instance.toBuilder().setRegisteredRevision(987_654_321).build(), at);
        InstanceRecord stored = InstanceRecords.read(KEY, encoded, 7, 42).orElseThrow();

        assertThat(new String(encoded, StandardCharsets.UTF_8)).doesNotContain("egisteredRevision").doesNotContain("987654321");
        assertThat(stored.instance()).isEqualTo(instance.toBuilder().setRegisteredRevision(42).build());
        assertThat(stored.registeredAt()).isEqualTo(at);
        assertThat(stored.leaseId()).isEqualTo(7);
    }

    @Test
    void aKeyOutsideTheLayoutIsNotARecord() {
        byte[] record = InstanceRecords.encode(Instance.getDefaultInstance(), Instant.EPOCH);
        assertThat(InstanceRecords.read("/switchboard/services/orders", record, 7, 42)).isEmpty();
        assertThat(InstanceRecords.read("/switchboard/services/orders/", record, 7, 42)).isEmpty();
        assertThat(InstanceRecords.read("/elsewhere/orders/orders-1", record, 7, 42)).isEmpty();
        assertThat(InstanceRecords.key("orders", "orders-1")).isEqualTo("/switchboard/services/orders/orders-1");
    }

    @Test
    void anEmptyInstanceStillMakesValidJson() {
        Instant at = Instant.parse("2026-11-24T13:43:53Z");
        byte[] record = InstanceRecords.encode(Instance.getDefaultInstance(), at);
        assertThat(new String(record, StandardCharsets.UTF_8)).isEqualTo("{\"registeredAt\":\"2026-11-24T13:43:53Z\"}");
        assertThat(InstanceRecords.read(KEY, record, 7, 42).orElseThrow().registeredAt()).isEqualTo(at);
    }

    @Test
    void recordsWrittenBeforeRegistrationTimesStillParse() {
        byte[] old = "{\"host\":\"127.0.0.1\",\"port\":9001}".getBytes(StandardCharsets.UTF_8);
        InstanceRecord stored = InstanceRecords.read(KEY, old, 7, 42).orElseThrow();
        assertThat(stored.instance().getPort()).isEqualTo(9001);
        assertThat(stored.registeredAt()).isNull();
    }

    @Test
    void anUnreadableRegistrationTimeIsUnknownNotFatal() {
        byte[] odd = "{\"port\":9001,\"registeredAt\":\"yesterday\"}".getBytes(StandardCharsets.UTF_8);
        InstanceRecord stored = InstanceRecords.read(KEY, odd, 7, 42).orElseThrow();
        assertThat(stored.instance().getPort()).isEqualTo(9001);
        assertThat(stored.registeredAt()).isNull();
    }
}
