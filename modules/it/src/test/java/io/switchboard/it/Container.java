package io.switchboard.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A component run from its image with podman, under the chart's security settings: user 10001, a read-only root
 * file system with {@code /tmp} (a tmpfs) and the given mounts as its only writable places, every capability dropped,
 * no privilege escalation, the chart's memory limit. It shares the host's network, so that it serves on the loopback
 * port its environment names. Not thread safe.
 */
final class Container implements AutoCloseable {
    /** The podman and buildah settings of this machine kind (scripts/containers.conf). */
    private static final Path CONF = Path.of("../../scripts/containers.conf").toAbsolutePath().normalize();
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);

    private final String name;
    private final long started = System.nanoTime();

    private Container(String name) {
        this.name = name;
    }

    /** Its name. */
    String name() {
        return name;
    }

    /** When {@code podman run} returned, in {@link System#nanoTime()}. */
    long started() {
        return started;
    }

    /**
     * Starts a container.
     *
     * @param name   its name (unique on the machine)
     * @param image  the image
     * @param memory its memory limit, as the chart's {@code resources.limits.memory} ({@code 384m})
     * @param env    its environment
     * @param mounts host paths and where they appear, with their options ({@code /etc/x:ro})
     * @return the running container
     */
    static Container run(String name, String image, String memory, Map<String, String> env, Map<Path, String> mounts) {
        List<String> command = new ArrayList<>(List.of("run", "--detach", "--name", name, "--network", "host",
                                                       "--user", "10001:10001", "--read-only",
                                                       "--read-only-tmpfs=false", "--tmpfs", "/tmp:rw,mode=1777",
                                                       "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                                                       "--memory", memory));
        env.forEach((key, value) -> command.addAll(List.of("--env", key + "=" + value)));
        mounts.forEach((host, inside) -> command.addAll(List.of("--volume", host + ":" + inside)));
        command.add(image);
        podman(command.toArray(String[]::new));
        return new Container(name);
    }

    /** Whether the image exists in local storage. */
    static boolean imageExists(String image) {
        return run(List.of("image", "exists", image)).status == 0;
    }

    /** The image's size in bytes, as {@code podman images} counts it (all layers, uncompressed). */
    static long imageSize(String image) {
        return Long.parseLong(podman("image", "inspect", "--format", "{{.Size}}", image).strip());
    }

    /**
     * Stops it as Kubernetes does: SIGTERM, then SIGKILL after the grace period.
     *
     * @param grace the termination grace period
     * @return how it ended
     */
    Stopped stop(Duration grace) {
        long start = System.nanoTime();
        podman("stop", "--time", String.valueOf(grace.toSeconds()), name);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        int exitCode = Integer.parseInt(inspect("{{.State.ExitCode}}"));
        return new Stopped(exitCode, took);
    }

    /**
     * A property of the container, as {@code podman inspect} gives it.
     *
     * @param format a Go template ({@code {{.HostConfig.ReadonlyRootfs}}})
     * @return its value
     */
    String inspect(String format) {
        return podman("inspect", "--format", format, name).strip();
    }

    /** Whether the container is still running. */
    boolean running() {
        return "true".equals(inspect("{{.State.Running}}"));
    }

    /** Its output so far (the component's log). */
    String logs() {
        Result result = run(List.of("logs", name));
        return result.output;
    }

    @Override
    public void close() {
        run(List.of("rm", "--force", "--time", "0", name));
    }

    /** How a stopped container ended: its main process's exit code, and how long the stop took. */
    record Stopped(int exitCode, Duration took) {
    }

    private static String podman(String... args) {
        Result result = run(List.of(args));
        if (result.status != 0) {
            throw new IllegalStateException("podman " + String.join(" ", args) + " failed (" + result.status + "): "
                                            + result.output.strip());
        }
        return result.output;
    }

    private record Result(int status, String output) {
    }

    private static Result run(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add("podman");
        command.addAll(args);
        try {
            // the output into a file, so that a command that hangs is ended at the timeout, not waited on
            Path output = Files.createTempFile("podman-", ".out");
            try {
                ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(output.toFile());
                builder.environment().put("CONTAINERS_CONF", CONF.toString());
                Process process = builder.start();
                if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new IllegalStateException("podman " + String.join(" ", args) + " did not end within "
                                                    + COMMAND_TIMEOUT);
                }
                return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run podman (scripts/images.sh installs it): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
