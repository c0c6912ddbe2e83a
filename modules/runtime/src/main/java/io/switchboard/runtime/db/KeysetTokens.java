package io.switchboard.runtime.db;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Opaque page tokens for keyset paging: the position (creation time and id) of the last row of a page, bound to
 * the kind of list and the filter it was issued for, so that a token of one list never pages another. Clients treat
 * it as an opaque string.
 */
public final class KeysetTokens {
    private static final int MAX_LENGTH = 256;

    private KeysetTokens() {
    }

    /**
     * A token for the page after a position.
     *
     * @param kind   names the list and the token's version, such as {@code p2}; no {@code :}
     * @param after  the last row of this page
     * @param filter the list's filter, written out (not hashed), so two filters never share a token
     * @return the token
     */
    public static String encode(String kind, Position after, String filter) {
        String plain = kind + ":" + after.createdAt() + ":" + after.id() + ":" + filter;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The position a token points after.
     *
     * @param token  the token
     * @param kind   the kind this list issues
     * @param filter the filter of this request
     * @return the position
     * @throws StatusRuntimeException INVALID_ARGUMENT for anything not issued for this kind and filter
     */
    public static Position decode(String token, String kind, String filter) {
        return read(token, kind, filter).orElseThrow(KeysetTokens::notIssued);
    }

    /**
     * The position a token points after, if it was issued for this kind and filter.
     *
     * @param token  the token
     * @param kind   the kind
     * @param filter the filter
     * @return the position, or empty
     */
    public static Optional<Position> read(String token, String kind, String filter) {
        try {
            if (token.length() > MAX_LENGTH) {
                return Optional.empty();
            }
            String[] parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split(":", -1);
            if (parts.length != 4 || !parts[0].equals(kind) || !parts[3].equals(filter)) {
                return Optional.empty();
            }
            return Optional.of(new Position(Long.parseLong(parts[1]), parts[2]));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * The error for a token this service did not issue for the query.
     *
     * @return INVALID_ARGUMENT
     */
    public static StatusRuntimeException notIssued() {
        return Status.INVALID_ARGUMENT.withDescription("pageToken is not one this service issued for this query")
                .asRuntimeException();
    }

    /**
     * A page from the rows a query read with {@code LIMIT pageSize + 1}: at most {@code pageSize} of them, and when
     * there were more, the token of the page after the last one kept.
     *
     * @param rows     the rows read, in the list's order, at most {@code pageSize + 1}
     * @param pageSize the page's size
     * @param position where a row stands in the list's order
     * @param token    the token of the page after a position
     * @param <T>      row type
     * @return the page
     */
    public static <T> Page<T> page(List<T> rows, int pageSize, Function<T, Position> position,
                                   Function<Position, String> token) {
        if (rows.size() <= pageSize) {
            return new Page<>(List.copyOf(rows), "");
        }
        List<T> page = List.copyOf(rows.subList(0, pageSize));
        return new Page<>(page, token.apply(position.apply(page.get(pageSize - 1))));
    }

    /**
     * A page of a list.
     *
     * @param rows          the rows, in the list's order
     * @param nextPageToken the token of the next page, empty when this is the last
     * @param <T>           row type
     */
    public record Page<T>(List<T> rows, String nextPageToken) {
    }

    /**
     * Where a page ends.
     *
     * @param createdAt creation time, epoch millis
     * @param id        row id
     */
    public record Position(long createdAt, String id) {
    }
}
