package io.switchboard.it;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.switchboard.testkit.EtcdServer;
import io.switchboard.testkit.FreePorts;
import io.switchboard.testkit.JavaProcess;
import io.switchboard.testkit.PostgresServer;

import static io.switchboard.it.Components.ready;
import static org.awaitility.Awaitility.await;

/**
 * The failover stack as processes: a hub over the given etcd, a user instance, two post instances sharing one
 * PostgreSQL database, and a gateway, all ready; a post written through the gateway. Closing stops every process.
 */
final class TwoPosts implements AutoCloseable {
    final int hubPort = FreePorts.next();
    final int gatewayPort = FreePorts.next();
    final int[] postPorts = {FreePorts.next(), FreePorts.next()};
    final JavaProcess hub;
    final JavaProcess postA;
    final JavaProcess postB;
    final JavaProcess gateway;
    final String postId;
    private final List<JavaProcess> processes = new ArrayList<>();
    private final Map<String, String> postSettings;

    private TwoPosts(EtcdServer etcd, PostgresServer postgres, Map<String, String> postSettings,
                     Map<String, String> everyone, String phone) throws Exception {
        this.postSettings = new HashMap<>(everyone);
        this.postSettings.putAll(postSettings);
        this.postSettings.putAll(Map.of("DB_URL", postgres.createDatabase("posts"), "DB_USER", PostgresServer.USER));
        int userPort = FreePorts.next();
        hub = start(Components.hub(etcd.endpoint(), hubPort, everyone));
        start(Components.service("user", hubPort, userPort, Files.createTempDirectory("u-"), everyone));
        postA = post(postPorts[0]);
        postB = post(postPorts[1]);
        gateway = start(Components.gateway(hubPort, gatewayPort, everyone));
        await().atMost(Duration.ofSeconds(40)).until(() -> ready(userPort) && ready(postPorts[0]) && ready(postPorts[1])
                                                           && ready(gatewayPort));
        String token = Api.registerAndLogin(gatewayPort, phone);
        postId = Api.find(Api.ID, Api.send(gatewayPort, "POST", "/post", "{\"title\":\"t\",\"content\":\"c\"}", token));
    }

    /**
     * Starts the stack and waits until it is ready.
     *
     * @param etcd         a running etcd
     * @param postgres     a running PostgreSQL
     * @param postSettings environment of both post instances, beside their database
     * @param phone        the phone number of the user who writes the post
     * @return the stack
     * @throws Exception when a process cannot start
     */
    static TwoPosts start(EtcdServer etcd, PostgresServer postgres, Map<String, String> postSettings, String phone)
            throws Exception {
        return new TwoPosts(etcd, postgres, postSettings, Map.of(), phone);
    }

    /**
     * Starts the stack with the same extra environment for every process (tracing, say), and waits until it is ready.
     *
     * @param etcd         a running etcd
     * @param postgres     a running PostgreSQL
     * @param postSettings environment of both post instances, beside their database
     * @param everyone     environment of every process
     * @param phone        the phone number of the user who writes the post
     * @return the stack
     * @throws Exception when a process cannot start
     */
    static TwoPosts start(EtcdServer etcd, PostgresServer postgres, Map<String, String> postSettings,
                          Map<String, String> everyone, String phone) throws Exception {
        return new TwoPosts(etcd, postgres, postSettings, everyone, phone);
    }

    /**
     * Starts one more post instance on the same database, stopped with the rest.
     *
     * @param port its port
     * @return the process
     * @throws Exception when it cannot start
     */
    JavaProcess post(int port) throws Exception {
        return start(Components.service("post", hubPort, port, Files.createTempDirectory("p-"), postSettings));
    }

    /**
     * The gateway's threads now and its log lines so far other than quick 200s (the first 200), for a request that got
     * no answer.
     *
     * @return the text
     */
    String gatewaySnapshot() {
        String unusual = gateway.output().lines()
                .filter(line -> !line.matches(".* 200 \\d{1,3}ms .*"))
                .limit(200)
                .collect(java.util.stream.Collectors.joining("\n"));
        return "gateway log lines other than quick 200s:\n" + unusual + "\n" + gateway.threadDump();
    }

    private JavaProcess start(JavaProcess process) {
        processes.add(process);
        return process;
    }

    @Override
    public void close() {
        processes.forEach(JavaProcess::close);
    }
}
