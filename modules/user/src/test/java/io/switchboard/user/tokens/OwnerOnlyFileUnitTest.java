package io.switchboard.user.tokens;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.switchboard.identity.OwnerOnlyFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OwnerOnlyFileUnitTest {
    @TempDir
    Path directory;

    @Test
    void writesTheWholeContentOwnerOnlyAndLeavesNoTemporaryFile() throws Exception {
        Path file = directory.resolve("key.json");
        Files.writeString(file, "old");

        OwnerOnlyFile.write(file, "{\"kty\":\"EC\"}");

        assertThat(Files.readString(file)).isEqualTo("{\"kty\":\"EC\"}");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (var files = Files.list(directory)) {
            assertThat(files.toList()).containsExactly(file);
        }
    }

    /*
     * The umask of whoever runs the tests decides what a file created without a mode gets (077 would hide the
     * difference): the probe runs under umask 000, where such a file is readable and writable by everyone.
     */
    @Test
    void filesAreOwnerOnlyFromTheirCreationWhateverTheUmask() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process probe = new ProcessBuilder("/bin/sh", "-c", "umask 000 && exec \"$0\" -cp \"$1\" \"$2\" \"$3\"", java,
                                           System.getProperty("java.class.path"), OwnerOnlyFileProbe.class.getName(),
                                           directory.toString())
                .redirectErrorStream(true).start();
        String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(probe.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(probe.exitValue()).as(output).isZero();

        List<String> lines = output.lines().filter(l -> l.matches("(plain|created|key|data) .*")).toList();
        assertThat(lines).as(output).containsExactly(
                "plain rw-rw-rw-",
                "created rw------- 0",
                "key rw-------",
                "data [user-signing-key.json]");
    }
}
