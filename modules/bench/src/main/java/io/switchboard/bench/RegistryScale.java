package io.switchboard.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import io.switchboard.bench.scale.ScaleCluster;
import io.switchboard.bench.scale.Scenario;
import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.JavaProcess;

/**
 * The registry at scale: starts etcd and two hub replicas from the hub jar on fixed ports, runs the scale
 * {@link Scenario} against them and prints its figures, one line per measurement.
 *
 * <pre>
 * java -cp ... io.switchboard.bench.RegistryScale hub.jar etcd-port hub-port-a hub-port-b
 *      [instances] [services] [subscribers] [seconds] [churn-per-second] [etcd-outage-seconds]
 * </pre>
 * Exits with 1 when a correctness check fails (a lease lost, a subscriber that did not converge).
 */
public final class RegistryScale {
    private RegistryScale() {
    }

    /**
     * Runs the benchmark.
     *
     * @param args hub jar, ports, then optional sizes
     */
    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: RegistryScale hub.jar etcd-port hub-port-a hub-port-b [instances] [services]"
                               + " [subscribers] [seconds] [churn-per-second] [etcd-outage-seconds]");
            System.exit(2);
        }
        Path hubJar = Path.of(args[0]);
        int etcdPort = Integer.parseInt(args[1]);
        Scenario.Settings settings = new Scenario.Settings(arg(args, 4, 10_000), arg(args, 5, 100), arg(args, 6, 200),
                                                           Duration.ofSeconds(arg(args, 7, 120)), arg(args, 8, 50), 10,
                                                           Duration.ofSeconds(arg(args, 9, 15)));
        ScaleCluster cluster = ScaleCluster.start(EtcdServer.reserve(etcdPort, etcdPort + 1),
                                                  List.of(Integer.parseInt(args[2]), Integer.parseInt(args[3])),
                                                  env -> JavaProcess.jar(hubJar, env));
        // etcd and the hubs are child processes: they must not outlive the tool, even on Ctrl-C or a failure
        Thread closer = new Thread(cluster::close);
        Runtime.getRuntime().addShutdownHook(closer);
        boolean correct;
        try {
            Scenario.Report report = Scenario.run(cluster, settings, System.out);
            correct = report.leasesLost == 0 && report.leasesLostAfterHubKill == 0
                      && report.unpropagated == 0 && report.staleAfterOutage == 0;
            System.out.println(correct ? "correctness: no lease lost, every change seen, nothing stale"
                                       : "correctness: FAILED (see the figures above)");
        } catch (IllegalStateException e) {
            System.out.println("FAILED: " + e.getMessage());
            correct = false;
        }
        System.exit(correct ? 0 : 1);
    }

    private static int arg(String[] args, int index, int fallback) {
        return args.length > index ? Integer.parseInt(args[index]) : fallback;
    }
}
