package io.switchboard.bench.scale;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;

/**
 * What the scale scenario runs against: a real etcd and hub replicas, each its own process, that can be killed and
 * restarted, and whose CPU time and memory are read from {@code /proc}. Not thread safe.
 */
public final class ScaleCluster implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final EtcdServer etcd;
    private final List<Integer> hubPorts;
    private final List<Integer> managementPorts = new ArrayList<>();
    private final List<JavaProcess> hubs = new ArrayList<>();

    private ScaleCluster(EtcdServer etcd, List<Integer> hubPorts) {
        this.etcd = etcd;
        this.hubPorts = hubPorts;
    }

    /**
     * Starts etcd and the hub replicas and waits until every hub is ready.
     *
     * @param etcd     etcd, not running yet
     * @param hubPorts one port per hub replica
     * @param launcher starts a hub process from its environment
     * @return the running cluster
     */
    public static ScaleCluster start(EtcdServer etcd, List<Integer> hubPorts,
                                     Function<Map<String, String>, JavaProcess> launcher) {
        ScaleCluster cluster = new ScaleCluster(etcd, hubPorts);
        etcd.restart();
        for (int port : hubPorts) {
            // plaintext for now: the scenario registers thousands of services through clients without identities
            int management = FreePorts.next();
            cluster.managementPorts.add(management);
            cluster.hubs.add(launcher.apply(Map.of("SERVER_PORT", String.valueOf(port),
                                                   "SERVER_MANAGEMENT_PORT", String.valueOf(management),
                                                   "ETCD_ENDPOINTS", etcd.endpoint(),
                                                   "TLS_PLAINTEXT", "true")));
        }
        for (int i = 0; i < hubPorts.size(); i++) {
            cluster.awaitReady(i);
        }
        return cluster;
    }

    /**
     * The hub endpoints, {@code host:port,...}.
     *
     * @return endpoints
     */
    public String hubEndpoints() {
        return String.join(",", hubPorts.stream().map(port -> "127.0.0.1:" + port).toList());
    }

    /**
     * One hub's endpoint.
     *
     * @param index replica
     * @return {@code host:port}
     */
    public String hubEndpoint(int index) {
        return "127.0.0.1:" + hubPorts.get(index);
    }

    /**
     * Number of hub replicas started.
     *
     * @return count
     */
    public int hubCount() {
        return hubPorts.size();
    }

    /**
     * SIGKILLs a hub replica.
     *
     * @param index replica
     */
    public void killHub(int index) {
        hubs.get(index).kill();
    }

    /**
     * SIGKILLs etcd; its data stays.
     */
    public void stopEtcd() {
        etcd.kill();
    }

    /**
     * Starts etcd again on the same ports and data, and waits until it is healthy.
     */
    public void startEtcd() {
        etcd.restart();
    }

    /**
     * A value from etcd's own {@code /metrics} (summed over label sets).
     *
     * @param name metric name
     * @return the value
     */
    public double etcdMetric(String name) {
        return metric(etcd.endpoint() + "/metrics", name);
    }

    /**
     * A value from a hub's {@code /observe/metrics} (summed over label sets).
     *
     * @param index replica
     * @param name  metric name
     * @return the value
     */
    public double hubMetric(int index, String name) {
        return metric("http://127.0.0.1:" + managementPorts.get(index) + "/observe/metrics", name);
    }

    /**
     * CPU seconds (user + system) a hub replica has used.
     *
     * @param index replica
     * @return seconds
     */
    public double hubCpuSeconds(int index) {
        return cpuSeconds(hubs.get(index).pid());
    }

    /**
     * Peak resident memory of a hub replica.
     *
     * @param index replica
     * @return MiB
     */
    public long hubPeakRssMib(int index) {
        return statusKib(hubs.get(index).pid(), "VmHWM") / 1024;
    }

    /**
     * CPU seconds the running etcd has used.
     *
     * @return seconds
     */
    public double etcdCpuSeconds() {
        return cpuSeconds(etcd.pid());
    }

    /**
     * Peak resident memory of the running etcd.
     *
     * @return MiB
     */
    public long etcdPeakRssMib() {
        return statusKib(etcd.pid(), "VmHWM") / 1024;
    }

    /**
     * The tail of a hub's log, for failure messages.
     *
     * @param index replica
     * @return last lines
     */
    public String hubLogTail(int index) {
        String[] lines = hubs.get(index).output().split("\n");
        return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - 30), lines.length));
    }

    @Override
    public void close() {
        hubs.forEach(JavaProcess::close);
        etcd.close();
    }

    private void awaitReady(int index) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        URI ready = URI.create("http://127.0.0.1:" + managementPorts.get(index) + "/observe/health/ready");
        while (System.nanoTime() < deadline) {
            try {
                if (HTTP.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).build(),
                              HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            Scenario.pause(100);
        }
        throw new IllegalStateException("hub " + hubEndpoint(index) + " not ready after 60 s:\n" + hubLogTail(index));
    }

    private static double metric(String url, String name) {
        try {
            String body = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                                    HttpResponse.BodyHandlers.ofString()).body();
            return body.lines()
                    .filter(line -> line.startsWith(name + " ") || line.startsWith(name + "{"))
                    .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                    .sum();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + url + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static double cpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    private static long statusKib(long pid, String field) {
        try {
            return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                    .filter(line -> line.startsWith(field + ":"))
                    .mapToLong(line -> Long.parseLong(line.replaceAll("[^0-9]", "")))
                    .findFirst().orElse(-1);
        } catch (IOException e) {
            return -1;
        }
    }
}
