package io.switchboard.post.posts;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.switchboard.runtime.db.KeysetTokens;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PageTokensUnitTest {
    private static final KeysetTokens.Position AFTER = new KeysetTokens.Position(1_764_000_000_000L, "post-7");

    @Test
    void aTokenLeadsBackToItsPositionForItsOwnFilter() {
        assertThat(PageTokens.decode(PageTokens.encode(AFTER, "Aa"), "Aa")).isEqualTo(AFTER);
        assertThat(PageTokens.decode(PageTokens.encode(AFTER, ""), "")).isEqualTo(AFTER);
    }

    @Test
    void filtersWithTheSameHashCodeDoNotShareTokens() {
        assertThat("Aa".hashCode()).isEqualTo("BB".hashCode());
        String token = PageTokens.encode(AFTER, "Aa");

        assertThatThrownBy(() -> PageTokens.decode(token, "BB")).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> PageTokens.decode(token, "")).isInstanceOf(StatusRuntimeException.class);
    }

    @Test
    void aTokenIssuedBeforeTheFilterWasWrittenOutIsStillRead() {
        String old = Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("p1:" + AFTER.createdAt() + ":" + AFTER.id() + ":" + "Aa".hashCode()).getBytes(StandardCharsets.UTF_8));

        assertThat(PageTokens.decode(old, "Aa")).isEqualTo(AFTER);
        assertThatThrownBy(() -> PageTokens.decode(old, "Ab")).isInstanceOf(StatusRuntimeException.class);
    }
}
