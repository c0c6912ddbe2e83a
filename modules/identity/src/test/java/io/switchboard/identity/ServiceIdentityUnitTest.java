package io.switchboard.identity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServiceIdentityUnitTest {
    @Test
    void parsesAndWritesAServicesSpiffeId() {
        ServiceIdentity post = ServiceIdentity.parse("spiffe://switchboard.local/service/post");
        assertThat(post).isEqualTo(new ServiceIdentity("switchboard.local", "post"));
        assertThat(post.uri()).isEqualTo("spiffe://switchboard.local/service/post");
        assertThat(ServiceIdentity.parse(post.uri())).isEqualTo(post);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "post", "https://switchboard.local/service/post", "spiffe://switchboard.local/post",
                            "spiffe://switchboard.local/service/", "spiffe://switchboard.local/service/post/x",
                            "spiffe://switchboard.local/service/Post", "spiffe://switchboard.local:8443/service/post",
                            "spiffe://u@switchboard.local/service/post", "spiffe://switchboard.local/service/post?x",
                            "spiffe://switchboard.local/service/post#x", "spiffe:///service/post",
                            "spiffe://switchboard.local/service/p%6Fst", "spiffe://switchboard.local/service/../hub"})
    void refusesAnythingElse(String id) {
        assertThatThrownBy(() -> ServiceIdentity.parse(id)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theLongestServiceNameIs63Characters() {
        assertThat(new ServiceIdentity("d", "a".repeat(63)).service()).hasSize(63);
        assertThatThrownBy(() -> new ServiceIdentity("d", "a".repeat(64))).isInstanceOf(IllegalArgumentException.class);
    }
}
