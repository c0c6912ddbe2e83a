package io.switchboard.hub;

import java.util.LinkedHashMap;
import java.util.Map;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.switchboard.api.hub.v1.Instance;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InstanceRulesUnitTest {
    static final Instance VALID = Instance.newBuilder()
            .setService("orders")
            .setId("orders-1")
            .setHost("10.0.0.1")
            .setPort(8080)
            .build();

    @Test
    void everyFieldAtItsLimitPasses() {
        assertThatCode(() -> InstanceRules.checkRegistration(atLimits(), InstanceRules.MAX_TTL)).doesNotThrowAnyException();
        assertThatCode(() -> InstanceRules.checkRegistration(VALID, InstanceRules.MIN_TTL)).doesNotThrowAnyException();
        assertThatCode(() -> InstanceRules.checkRegistration(VALID.toBuilder().setPort(1).setWeight(0).build(), 10))
                .doesNotThrowAnyException();
        assertThatCode(() -> InstanceRules.checkService("a")).doesNotThrowAnyException();
        assertThatCode(() -> InstanceRules.checkLease(1)).doesNotThrowAnyException();
        assertThatCode(() -> InstanceRules.checkLease(Long.MAX_VALUE)).doesNotThrowAnyException();
    }

    @Test
    void oneMoreThanEachLimitFailsNamingTheField() {
        Instance max = atLimits();
        invalid(() -> InstanceRules.checkRegistration(max.toBuilder().setService("s".repeat(64)).build(), 10),
                "service name");
        invalid(() -> InstanceRules.checkRegistration(max.toBuilder().setId("i".repeat(129)).build(), 10), "instance id");
        invalid(() -> InstanceRules.checkRegistration(max.toBuilder().setHost("h".repeat(254)).build(), 10), "host");
        invalid(() -> InstanceRules.checkRegistration(max.toBuilder().setPort(65536).build(), 10), "port");
        invalid(() -> InstanceRules.checkRegistration(max.toBuilder().setPort(0).build(), 10), "port");
        invalid(() -> InstanceRules.checkRegistration(max.toBuilder().setVersion("v".repeat(65)).build(), 10), "version");
        invalid(() -> InstanceRules.checkRegistration(max.toBuilder().setZone("z".repeat(65)).build(), 10), "zone");
        invalid(() -> InstanceRules.checkRegistration(max.toBuilder().setWeight(1001).build(), 10), "weight");
        invalid(() -> InstanceRules.checkRegistration(max.toBuilder().setWeight(-1).build(), 10), "weight");
        invalid(() -> InstanceRules.checkRegistration(max, InstanceRules.MAX_TTL + 1), "ttl_seconds");
        invalid(() -> InstanceRules.checkRegistration(max, InstanceRules.MIN_TTL - 1), "ttl_seconds");
        invalid(() -> InstanceRules.checkLease(0), "lease_id");
        invalid(() -> InstanceRules.checkLease(-1), "lease_id");
        invalid(() -> InstanceRules.checkService(""), "service name");
    }

    @Test
    void metadataLimitsHoldAtTheirBoundaries() {
        Map<String, String> entries = new LinkedHashMap<>();
        for (int i = 0; i < 32; i++) {
            entries.put("k" + i, "v");
        }
        assertThatCode(() -> InstanceRules.checkRegistration(VALID.toBuilder().putAllMetadata(entries).build(), 10))
                .doesNotThrowAnyException();
        invalid(() -> InstanceRules.checkRegistration(VALID.toBuilder().putAllMetadata(entries).putMetadata("k32", "v")
                                                              .build(), 10),
                "metadata has 33 entries");

        String key63 = "k".repeat(63);
        assertThatCode(() -> InstanceRules.checkRegistration(VALID.toBuilder().putMetadata(key63, "v").build(), 10))
                .doesNotThrowAnyException();
        invalid(() -> InstanceRules.checkRegistration(VALID.toBuilder().putMetadata(key63 + "k", "v").build(), 10),
                "metadata key");

        assertThatCode(() -> InstanceRules.checkRegistration(VALID.toBuilder().putMetadata("k", "v".repeat(512)).build(),
                                                             10))
                .doesNotThrowAnyException();
        invalid(() -> InstanceRules.checkRegistration(VALID.toBuilder().putMetadata("k", "v".repeat(513)).build(), 10),
                "metadata value of \"k\"");
    }

    @Test
    void metadataIsLimitedTo8KiBCountingUtf8BytesNotCharacters() {
        // 16 entries of a 3-character key and a 509-byte value: 8192 bytes exactly
        Map<String, String> exactly = new LinkedHashMap<>();
        for (int i = 10; i < 26; i++) {
            exactly.put("k" + i, "v".repeat(509));
        }
        assertThatCode(() -> InstanceRules.checkRegistration(VALID.toBuilder().putAllMetadata(exactly).build(), 10))
                .doesNotThrowAnyException();
        invalid(() -> InstanceRules.checkRegistration(VALID.toBuilder().putAllMetadata(exactly).putMetadata("x", "")
                                                              .build(), 10),
                "metadata is 8193 bytes");

        // 17 values of 170 euro signs: each value is under 512 characters, together over 8 KiB in UTF-8
        Map<String, String> wide = new LinkedHashMap<>();
        for (int i = 10; i < 27; i++) {
            wide.put("k" + i, "\u20ac".repeat(170));
        }
        invalid(() -> InstanceRules.checkRegistration(VALID.toBuilder().putAllMetadata(wide).build(), 10),
                "metadata is 8721 bytes");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Orders", "or_ders", "or ders", "orders/x", "\u00f6rders", "orders\n"})
    void serviceNamesAreLowerCaseLettersDigitsAndDashes(String name) {
        invalid(() -> InstanceRules.checkService(name), "service name must match");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a b", "a/b", "a\u0000", "\u00e9"})
    void instanceIdsAndHostsRefuseOtherCharacters(String value) {
        invalid(() -> InstanceRules.checkRegistration(VALID.toBuilder().setId(value).build(), 10), "instance id");
        invalid(() -> InstanceRules.checkRegistration(VALID.toBuilder().setHost(value).build(), 10), "host");
    }

    @Test
    void versionAndZoneRefuseControlCharacters() {
        invalid(() -> InstanceRules.checkRegistration(VALID.toBuilder().setVersion("1.0\n").build(), 10),
                "version must not contain control characters");
        invalid(() -> InstanceRules.checkRegistration(VALID.toBuilder().setZone("a\u0085").build(), 10),
                "zone must not contain control characters");
    }

    @Test
    void aHostileValueIsQuotedShortAndWithoutControlCharacters() {
        assertThatThrownBy(() -> InstanceRules.checkService("x\n\u001b[31m" + "y".repeat(10_000)))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription())
                        .doesNotContain("\n").doesNotContain("\u001b").hasSizeLessThan(200).endsWith("...\""));
    }

    /** The largest instance the rules accept. */
    static Instance atLimits() {
        return Instance.newBuilder()
                .setService("s".repeat(63))
                .setId("A-z0.9_:".repeat(16))
                .setHost("h".repeat(253))
                .setPort(65535)
                .setVersion("v".repeat(64))
                .setZone("z".repeat(64))
                .setWeight(1000)
                .putMetadata("k/y.-_" + "K".repeat(57), "v".repeat(512))
                .build();
    }

    static void invalid(ThrowingCallable call, String fragment) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains(fragment);
        });
    }
}
