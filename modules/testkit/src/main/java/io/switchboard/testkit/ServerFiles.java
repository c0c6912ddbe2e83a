package io.switchboard.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The files of a server process the testkit runs (etcd, PostgreSQL, Prometheus): its log and its temporary
 * directory.
 */
final class ServerFiles {
    private static final int TAIL_LINES = 20;

    private ServerFiles() {
    }

    /**
     * The last lines of a server's log, for failure messages.
     *
     * @param log the log file
     * @return its last lines, or why there are none
     */
    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /**
     * Deletes a server's temporary directory and everything in it, as far as it can.
     *
     * @param dir the directory
     */
    static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind is harmless
        }
    }
}
