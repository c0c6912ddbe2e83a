package io.switchboard.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.it.Components.status;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Several instances of a service on one data directory, as README shows locally, started at the same moment:
 * each unpacks sqlite-jdbc's native library into a directory of its own, and a start removes only what dead
 * processes left behind (they died by SIGKILL here, the way that leaves most behind).
 */
@Timeout(value = 240, unit = SECONDS)
class SharedDataDirectoryTest {
    private static final int INSTANCES = 4;
    private static final int ROUNDS = 4;

    @Test
    void fourPostInstancesStartingAtOnceOnOneDataDirectoryAllStartFourTimesOver() throws Exception {
        Path data = Files.createTempDirectory("post-shared-");
        int hubPort = FreePorts.next();
        for (int round = 1; round <= ROUNDS; round++) {
            List<JavaProcess> posts = new ArrayList<>();
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < INSTANCES; i++) {
                ports.add(FreePorts.next());
            }
            String name = "round " + round;
            try {
                for (int port : ports) {
                    posts.add(Components.service("post", hubPort, port, data));
                }
                // each instance either serves (its database is open: the server starts after it) or has died
                await().atMost(Duration.ofSeconds(60)).until(() -> java.util.stream.IntStream.range(0, INSTANCES).allMatch(
                        i -> !posts.get(i).isAlive() || status(ports.get(i), "/observe/health/live") == 200));
                for (JavaProcess post : posts) {
                    assertThat(post.isAlive()).as("%s: an instance died:%n%s", name, post.output()).isTrue();
                    assertThat(post.output()).as(name).doesNotContain("UnsatisfiedLinkError");
                }
                assertThat(directories(data.resolve(".sqlite-native")))
                        .as("%s: unpack directories, those of dead processes removed", name)
                        .containsExactlyInAnyOrderElementsOf(posts.stream().map(p -> String.valueOf(p.pid())).toList());
            } finally {
                posts.forEach(JavaProcess::kill);
            }
        }
    }

    private static List<String> directories(Path natives) throws Exception {
        try (Stream<Path> entries = Files.list(natives)) {
            return entries.map(p -> p.getFileName().toString()).toList();
        }
    }
}
