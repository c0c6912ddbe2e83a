package io.switchboard.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BuiltJarsUnitTest {
    private static final Instant BUILT = Instant.parse("2025-01-01T12:00:00Z");

    @TempDir
    Path modules;

    @Test
    void aJarBuiltAfterItsClassesIsUsed() throws Exception {
        file("hub/target/classes/io/switchboard/hub/Main.class", BUILT.minusSeconds(5));
        file("server/target/classes/io/switchboard/server/Servers.class", BUILT.minusSeconds(9));
        file("hub/target/libs/switchboard-server-0.1.0-SNAPSHOT.jar", BUILT.minusSeconds(1));
        file("hub/target/libs/grpc-api-1.73.0.jar", BUILT.minusSeconds(99_999));
        Path jar = jar("hub/target/hub.jar", BUILT, "libs/switchboard-server-0.1.0-SNAPSHOT.jar libs/grpc-api-1.73.0.jar");

        assertThat(BuiltJars.fresh(modules, "hub")).isEqualTo(jar);
    }

    @Test
    void aLeftOverLibraryOfAFormerDependencyIsNotChecked() throws Exception {
        file("gateway/target/classes/io/switchboard/gateway/Main.class", BUILT.minusSeconds(5));
        file("runtime/target/classes/io/switchboard/runtime/ServiceRuntime.class", BUILT.plusSeconds(30));
        file("gateway/target/libs/switchboard-runtime-0.1.0-SNAPSHOT.jar", BUILT.minusSeconds(99_999));
        Path jar = jar("gateway/target/gateway.jar", BUILT, "libs/grpc-api-1.73.0.jar");

        assertThat(BuiltJars.fresh(modules, "gateway")).isEqualTo(jar);
    }

    @Test
    void aJarOlderThanAClassOfItsModuleIsRefused() throws Exception {
        file("hub/target/classes/io/switchboard/hub/Main.class", BUILT.minusSeconds(5));
        file("hub/target/classes/io/switchboard/hub/ui/Dashboard.class", BUILT.plusSeconds(30));
        jar("hub/target/hub.jar", BUILT, null);

        assertThatThrownBy(() -> BuiltJars.fresh(modules, "hub")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stale build").hasMessageContaining("hub.jar").hasMessageContaining("Dashboard.class")
                .hasMessageContaining("./mvnw verify");
    }

    @Test
    void aJarOlderThanASourceEditedSinceTheBuildIsRefused() throws Exception {
        file("post/target/classes/io/switchboard/post/Posts.class", BUILT.minusSeconds(5));
        file("post/src/main/java/io/switchboard/post/Posts.java", BUILT.plusSeconds(30));
        file("server/src/main/resources/logging.properties", BUILT.plusSeconds(40));
        file("post/target/libs/switchboard-server-0.1.0-SNAPSHOT.jar", BUILT.minusSeconds(1));
        jar("post/target/post.jar", BUILT, "libs/switchboard-server-0.1.0-SNAPSHOT.jar");

        assertThatThrownBy(() -> BuiltJars.fresh(modules, "post")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Posts.java").hasMessageContaining("logging.properties");
    }

    @Test
    void aLibraryOlderThanItsModulesClassesIsRefused() throws Exception {
        file("hub/target/classes/io/switchboard/hub/Main.class", BUILT.minusSeconds(5));
        file("server/target/classes/io/switchboard/server/Servers.class", BUILT.plusSeconds(30));
        file("hub/target/libs/switchboard-server-0.1.0-SNAPSHOT.jar", BUILT.minusSeconds(1));
        jar("hub/target/hub.jar", BUILT, "libs/switchboard-server-0.1.0-SNAPSHOT.jar");

        assertThatThrownBy(() -> BuiltJars.fresh(modules, "hub")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("switchboard-server-0.1.0-SNAPSHOT.jar").hasMessageContaining("Servers.class");
    }

    @Test
    void aMissingJarIsRefused() {
        assertThatThrownBy(() -> BuiltJars.fresh(modules, "post")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("post.jar does not exist");
    }

    /* A jar whose manifest has the given Class-Path (none when null). */
    private Path jar(String path, Instant modified, String classPath) throws Exception {
        Path file = modules.resolve(path);
        Files.createDirectories(file.getParent());
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (classPath != null) {
            manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, classPath);
        }
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(file), manifest)) {
            out.flush();
        }
        Files.setLastModifiedTime(file, FileTime.from(modified));
        return file;
    }

    private Path file(String path, Instant modified) throws Exception {
        Path file = modules.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, path);
        Files.setLastModifiedTime(file, FileTime.from(modified));
        return file;
    }
}
