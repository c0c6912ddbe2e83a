package io.switchboard.identity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writes a file that only its owner may read, and that no one else could read at any moment: the content goes to
 * a new file in the same directory, created with mode 600 by the call that creates it (the umask can only narrow
 * that), written and flushed to disk, then moved over the target atomically. A reader sees the old file or the
 * whole new one, never a part. Not for concurrent writers of one target; the last move wins. For private keys: the
 * user service's signing keys and the components' TLS keys.
 */
public final class OwnerOnlyFile {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private OwnerOnlyFile() {
    }

    /**
     * Writes {@code content} to {@code file}, replacing it, as described above.
     *
     * @param file    the file
     * @param content its content, written in UTF-8
     * @throws IOException when it cannot be written; the target is then unchanged
     */
    public static void write(Path file, String content) throws IOException {
        Path directory = file.toAbsolutePath().getParent();
        Files.createDirectories(directory);
        Path temporary = createEmpty(directory, file.getFileName().toString());
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    channel.write(bytes);
                }
                channel.force(true);
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /**
     * A new empty file in {@code directory} that is owner-only from its creation on (where the file system has
     * POSIX permissions), with a name no other file has.
     *
     * @param directory where
     * @param name      the name of the file it will become, for its own name
     * @return the new file
     * @throws IOException when it cannot be created
     */
    public static Path createEmpty(Path directory, String name) throws IOException {
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        FileAttribute<?>[] attributes = posix
                                        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                                        : new FileAttribute<?>[0];
        return Files.createTempFile(directory, "." + name + ".", ".tmp", attributes);
    }
}
