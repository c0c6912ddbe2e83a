package io.switchboard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A component started as its own JVM, as an operator would start it: with the same {@code java} as the tests,
 * environment variables for configuration, and its output in a log file. It can be stopped with SIGTERM or
 * killed with SIGKILL. Not thread safe.
 */
public final class JavaProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private JavaProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code java -jar <jar>}.
     *
     * @param jar runnable jar
     * @param env extra environment
     * @return the running process
     */
    public static JavaProcess jar(Path jar, Map<String, String> env) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " does not exist: build it first (./mvnw package)");
        }
        return start(List.of("-jar", jar.toString()), env, jar.getFileName().toString());
    }

    /**
     * Starts a main class on the tests' own classpath.
     *
     * @param mainClass class with a main method
     * @param env       extra environment
     * @param args      program arguments
     * @return the running process
     */
    public static JavaProcess mainClass(Class<?> mainClass, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of("-cp", System.getProperty("java.class.path"),
                                                       mainClass.getName()));
        command.addAll(List.of(args));
        return start(command, env, mainClass.getSimpleName());
    }

    private static JavaProcess start(List<String> arguments, Map<String, String> env, String name) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>();
        command.add(java);
        command.add("-Xmx128m");
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.addAll(arguments);
        try {
            Path log = Files.createTempFile("switchboard-" + name + "-", ".log");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            Map<String, String> environment = new HashMap<>(builder.environment());
            environment.putAll(env);
            builder.environment().putAll(environment);
            return new JavaProcess(builder.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name, e);
        }
    }

    /**
     * Process id.
     *
     * @return pid
     */
    public long pid() {
        return process.pid();
    }

    /**
     * Whether the process runs.
     *
     * @return true while alive
     */
    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Sends SIGTERM and waits for the exit.
     *
     * @param timeout how long to wait
     * @return the exit code
     * @throws IllegalStateException when the process does not exit in time (it is then killed)
     */
    public int stop(Duration timeout) {
        process.destroy();
        return awaitExit(timeout);
    }

    /**
     * Sends SIGTERM without waiting.
     */
    public void terminate() {
        process.destroy();
    }

    /**
     * Waits for the process to exit.
     *
     * @param timeout how long to wait
     * @return the exit code
     * @throws IllegalStateException when the process does not exit in time (it is then killed)
     */
    public int waitFor(Duration timeout) {
        return awaitExit(timeout);
    }

    /**
     * Sends SIGKILL and waits for the exit.
     */
    public void kill() {
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(10));
    }

    /**
     * Freezes the process with SIGSTOP, as a long GC pause or a stopped container would: its sockets stay open and
     * the kernel still accepts connections and data for it, but nothing answers.
     */
    public void freeze() {
        signal("STOP");
    }

    /**
     * Lets a frozen process run again (SIGCONT).
     */
    public void thaw() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).inheritIO().start();
            if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * The process's threads now, virtual ones included (where a Helidon request waits), as
     * {@code jcmd Thread.dump_to_file} writes them, for a test that failed in a way only a dump explains (a request that
     * never got an answer).
     *
     * @return the dump, or why there is none
     */
    public String threadDump() {
        Path jcmd = Path.of(ProcessHandle.current().info().command().orElse("java")).resolveSibling("jcmd");
        Path file = log.resolveSibling("threads-" + process.pid() + "-" + System.nanoTime() + ".txt");
        try {
            Process dump = new ProcessBuilder(jcmd.toString(), String.valueOf(process.pid()), "Thread.dump_to_file",
                                              "-format=text", file.toString())
                    .redirectErrorStream(true).start();
            String text = new String(dump.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!dump.waitFor(20, TimeUnit.SECONDS)) {
                return "(jcmd did not finish: " + text + ")";
            }
            return Files.exists(file) ? Files.readString(file) : "(jcmd wrote no dump: " + text + ")";
        } catch (IOException e) {
            return "(cannot run " + jcmd + ": " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted)";
        }
    }

    /**
     * The process output so far.
     *
     * @return log text
     */
    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            // a frozen process dies of SIGKILL too
            kill();
        }
    }

    private int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("process did not exit within " + timeout + ":\n" + output());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
