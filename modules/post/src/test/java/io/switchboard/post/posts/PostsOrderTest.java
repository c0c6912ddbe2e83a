package io.switchboard.post.posts;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import io.helidon.config.Config;
import io.switchboard.runtime.db.Database;
import io.switchboard.runtime.db.KeysetTokens;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The order ListPosts promises, on a real SQLite file: newest first, and posts created in the same millisecond by
 * id, descending, so that the order is total and paging over a millisecond shared by several posts neither repeats
 * nor skips one. The rows are written with chosen times, as two instances writing at once would leave them.
 */
class PostsOrderTest {
    private static final Comparator<Posts.StoredPost> DOCUMENTED =
            Comparator.comparingLong(Posts.StoredPost::createdAt).thenComparing(Posts.StoredPost::id).reversed();

    @Test
    void postsOfOneMillisecondComeByIdDescendingAndPagesAcrossThemNeitherRepeatNorSkip() throws Exception {
        try (Database database = Database.open(Config.empty(), Files.createTempDirectory("posts-order-"), "post",
                                               Posts.MIGRATIONS)) {
            List<Posts.StoredPost> written = new ArrayList<>();
            // five posts share one millisecond, with ids written in an order that is neither ascending nor descending
            String[] sameMillisecond = {"c3", "a1", "e5", "b2", "d4"};
            for (String id : sameMillisecond) {
                written.add(new Posts.StoredPost(id, "author-1", id, "c", 1_700_000_000_500L, 0));
            }
            written.add(new Posts.StoredPost("z9", "author-1", "older", "c", 1_700_000_000_499L, 0));
            written.add(new Posts.StoredPost("a0", "author-1", "newer", "c", 1_700_000_000_501L, 0));
            written.add(new Posts.StoredPost("f6", "author-2", "someone else's", "c", 1_700_000_000_500L, 0));
            insert(database, written);
            Posts posts = new Posts(database);

            List<String> all = page(posts, "", 100);
            assertThat(all).containsExactly("a0", "f6", "e5", "d4", "c3", "b2", "a1", "z9");
            assertThat(all).containsExactlyElementsOf(written.stream().sorted(DOCUMENTED).map(Posts.StoredPost::id).toList());
            for (int size = 1; size <= 4; size++) {
                assertThat(page(posts, "", size)).as("pages of %d", size).isEqualTo(all);
                assertThat(page(posts, "author-1", size)).as("one author's pages of %d", size)
                        .containsExactly("a0", "e5", "d4", "c3", "b2", "a1", "z9");
            }
        }
    }

    private static List<String> page(Posts posts, String author, int size) {
        List<String> ids = new ArrayList<>();
        String token = "";
        do {
            KeysetTokens.Page<Posts.StoredPost> page = posts.list(author, size, token);
            page.rows().forEach(p -> ids.add(p.id()));
            token = page.nextPageToken();
        } while (!token.isEmpty());
        return ids;
    }

    private static void insert(Database database, List<Posts.StoredPost> written) throws Exception {
        try (Connection connection = database.dataSource().getConnection();
             PreparedStatement insert = connection.prepareStatement(
                     "INSERT INTO posts (id, author, title, content, created_at) VALUES (?, ?, ?, ?, ?)")) {
            for (Posts.StoredPost post : written) {
                insert.setString(1, post.id());
                insert.setString(2, post.author());
                insert.setString(3, post.title());
                insert.setString(4, post.content());
                insert.setLong(5, post.createdAt());
                insert.executeUpdate();
            }
        }
    }
}
