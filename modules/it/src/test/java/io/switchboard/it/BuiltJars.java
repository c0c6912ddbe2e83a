package io.switchboard.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The component jars these tests run, checked to be built from the current classes.
 * <p>
 * The reactor builds them first ({@code modules/it} depends on every component), but a run that stops before
 * {@code package} ({@code ./mvnw test}) or builds only some modules leaves an older jar in place, and a process
 * test would then pass or fail on code that is no longer there. So a jar, and every Switchboard jar its manifest
 * puts on the class path, must be at least as new as every file in its module's {@code src/main} (a source edited since
 * the last build) and {@code target/classes} (classes compiled since, the rule the jar plugin itself uses).
 */
final class BuiltJars {
    private static final String PREFIX = "switchboard-";

    private BuiltJars() {
    }

    /**
     * The runnable jar of a component, after checking that it and its Switchboard libraries are current.
     *
     * @param modules   the {@code modules} directory
     * @param component component module name ({@code hub}, {@code post}, ...)
     * @return {@code modules/<component>/target/<component>.jar}
     * @throws IllegalStateException when the jar is missing or older than the classes it is built from
     */
    static Path fresh(Path modules, String component) {
        Path target = modules.resolve(component).resolve("target");
        Path jar = target.resolve(component + ".jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " does not exist: build it first (./mvnw verify builds the "
                                            + "components before these tests)");
        }
        List<String> stale = new ArrayList<>();
        checkAgainstModule(jar, modules.resolve(component), stale);
        // only the libraries the jar's manifest puts on its class path: libs/ may keep a jar of a former dependency
        for (String entry : classPath(jar)) {
            Path lib = target.resolve(entry);
            String name = lib.getFileName().toString();
            if (name.startsWith(PREFIX)) {
                // switchboard-server-0.1.0-SNAPSHOT.jar comes from modules/server
                String module = name.substring(PREFIX.length(), name.indexOf('-', PREFIX.length()));
                checkAgainstModule(lib, modules.resolve(module), stale);
            }
        }
        if (!stale.isEmpty()) {
            throw new IllegalStateException("stale build: " + String.join("; ", stale) + ". Rebuild the jars in the "
                                            + "same run as these tests: ./mvnw verify (with -pl modules/it add -am)");
        }
        return jar;
    }

    private static List<String> classPath(Path jar) {
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            String classPath = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            return classPath == null ? List.of() : List.of(classPath.trim().split("\\s+"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the manifest of " + jar, e);
        }
    }

    private static void checkAgainstModule(Path jar, Path module, List<String> stale) {
        FileTime built = modified(jar);
        Stream.of(module.resolve("src").resolve("main"), module.resolve("target").resolve("classes"))
                .map(BuiltJars::newestFile).flatMap(Optional::stream)
                .filter(newest -> modified(newest).compareTo(built) > 0)
                .forEach(newest -> stale.add(jar + " (" + built + ") is older than " + newest + " ("
                                             + modified(newest) + ")"));
    }

    private static Optional<Path> newestFile(Path directory) {
        if (!Files.isDirectory(directory)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).max((a, b) -> modified(a).compareTo(modified(b)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
