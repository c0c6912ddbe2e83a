package io.switchboard.post.posts;

import io.switchboard.runtime.db.KeysetTokens;
import io.switchboard.runtime.db.KeysetTokens.Position;

/**
 * The post list's page tokens: {@link KeysetTokens} bound to the author filter.
 */
final class PageTokens {
    private static final String VERSION = "p2";
    /* tokens issued before p2 bound the filter by its hashCode only; still read, so paging survives an upgrade */
    private static final String HASHED = "p1";

    private PageTokens() {
    }

    static String encode(Position after, String author) {
        return KeysetTokens.encode(VERSION, after, author);
    }

    /**
     * The position a token points after.
     *
     * @param token  the token
     * @param author the author filter of this request
     * @return the position
     * @throws io.grpc.StatusRuntimeException INVALID_ARGUMENT for anything this service did not issue for this filter
     */
    static Position decode(String token, String author) {
        return KeysetTokens.read(token, VERSION, author)
                .or(() -> KeysetTokens.read(token, HASHED, String.valueOf(author.hashCode())))
                .orElseThrow(KeysetTokens::notIssued);
    }
}
