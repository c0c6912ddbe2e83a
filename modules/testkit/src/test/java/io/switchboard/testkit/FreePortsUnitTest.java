package io.switchboard.testkit;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FreePortsUnitTest {
    @Test
    void neverHandsOutAPortTwice() {
        // the kernel readily offers a port again once its probe socket is closed
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            assertThat(ports.add(FreePorts.next())).as("port handed out twice").isTrue();
        }
        assertThat(ports).allSatisfy(port -> assertThat(port).isBetween(1, 65535));
    }
}
