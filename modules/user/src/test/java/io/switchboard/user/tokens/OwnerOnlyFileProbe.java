package io.switchboard.user.tokens;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import io.helidon.config.Config;
import io.switchboard.identity.OwnerOnlyFile;

/**
 * Run by {@link OwnerOnlyFileUnitTest} in a JVM of its own under {@code umask 000}: prints the mode of a file
 * created without asking for one (what the umask gives), of a file from {@link OwnerOnlyFile#createEmpty}, and of
 * the signing key that the user service generates, and the data directory's file names.
 */
public final class OwnerOnlyFileProbe {
    private OwnerOnlyFileProbe() {
    }

    /**
     * Entry point.
     *
     * @param args a directory
     * @throws Exception when it fails
     */
    public static void main(String[] args) throws Exception {
        Path directory = Path.of(args[0]);
        Path plain = Files.createFile(directory.resolve("plain"));
        System.out.println("plain " + mode(plain));
        Path created = OwnerOnlyFile.createEmpty(directory, "created");
        System.out.println("created " + mode(created) + " " + Files.size(created));
        Path data = Files.createDirectory(directory.resolve("data"));
        SigningKeys.load(Config.empty(), data);
        System.out.println("key " + mode(data.resolve("user-signing-key.json")));
        try (var files = Files.list(data)) {
            System.out.println("data " + files.map(f -> f.getFileName().toString()).sorted().toList());
        }
    }

    private static String mode(Path file) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }
}
