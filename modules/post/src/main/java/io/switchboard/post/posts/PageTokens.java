package io.switchboard.post.posts;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import io.grpc.Status;

/**
 * Opaque page tokens for keyset paging: the position (creation time and id) of the last post of a page, bound to
 * the author filter it was issued for. Clients treat it as an opaque string.
 */
final class PageTokens {
    private static final String VERSION = "p2";
    /* tokens issued before p2 bound the filter by its hashCode only; still read, so paging survives an upgrade */
    private static final String HASHED = "p1";

    private PageTokens() {
    }

    static String encode(Position after, String author) {
        // the filter itself, not a hash of it: two filters never share a token (an author id has no ':')
        String plain = VERSION + ":" + after.createdAt() + ":" + after.id() + ":" + author;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
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
        try {
            if (token.length() > 256) {
                throw new IllegalArgumentException();
            }
            String[] parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split(":", -1);
            boolean issuedForThisFilter = parts.length == 4
                    && (VERSION.equals(parts[0]) && parts[3].equals(author)
                        || HASHED.equals(parts[0]) && parts[3].equals(String.valueOf(author.hashCode())));
            if (!issuedForThisFilter) {
                throw new IllegalArgumentException();
            }
            return new Position(Long.parseLong(parts[1]), parts[2]);
        } catch (IllegalArgumentException e) {
            throw Status.INVALID_ARGUMENT.withDescription("pageToken is not one this service issued for this query")
                    .asRuntimeException();
        }
    }

    /**
     * Where a page ends, in newest-first order.
     *
     * @param createdAt creation time, epoch millis
     * @param id        post id
     */
    record Position(long createdAt, String id) {
    }
}
