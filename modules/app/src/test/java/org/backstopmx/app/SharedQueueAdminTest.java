package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import jakarta.mail.Session;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.backstopmx.app.config.ConfigLoader;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.PostgresServer;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue commands on the shared queue, through one node's admin API: {@code queue list}, {@code queue show},
 * {@code stats}, {@code queue hold} and {@code queue flush} see and move every node's mail, not only the mail that
 * node accepted. Without a running node they refuse, naming why (the shared queue has no files to read).
 */
class SharedQueueAdminTest {
    private static final String TOKEN = "s3cret-token-for-tests";
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private PostgresServer postgres;
    private FakePrimaryMx primary;
    private Appliance a;
    private Appliance b;

    @AfterEach
    void stop() {
        SharedQueueNode.closeAll(a, b, primary, postgres);
    }

    @Test
    void anyNodesCommandsSeeAndMoveEveryNodesMail() throws Exception {
        postgres = PostgresServer.start();
        String url = postgres.jdbcUrl(postgres.createDatabase());
        Path password = SharedQueueNode.passwordFile(dir);
        primary = FakePrimaryMx.start();
        primary.stop();
        Path configA = writeConfig("node-a", url, password);
        Path configB = writeConfig("node-b", url, password);
        a = Appliance.start(ConfigLoader.load(Optional.of(configA), Map.of()), Clock.systemUTC());
        b = Appliance.start(ConfigLoader.load(Optional.of(configB), Map.of()), Clock.systemUTC());
        List<String> viaA = send(a, "a", 2);
        List<String> viaB = send(b, "b", 1);
        await().atMost(WAIT).until(() -> a.forwarder().isDown("example.test") || b.forwarder().isDown("example.test"));

        Cli.Run list = cli(configB, "queue", "list");
        assertThat(list.code()).as(list.toString()).isZero();
        assertThat(list.out()).contains(viaA.get(0), viaA.get(1), viaB.get(0), "in 3 Requests.");
        Cli.Run body = cli(configB, "queue", "show", "--body", viaA.get(0));
        assertThat(body.code()).as(body.toString()).isZero();
        assertThat(body.out()).contains("Received: from client.test", "Message-ID: <a-0@sender.test>");

        Cli.Run hold = cli(configB, "queue", "hold", viaA.get(0));
        assertThat(hold.out()).as(hold.toString()).contains(viaA.get(0) + ": 1 recipients held");
        Cli.Run stats = cli(configB, "stats");
        assertThat(stats.code()).as(stats.toString()).isZero();
        // the whole queue's figures; which destinations are down is the node's own view
        assertThat(stats.out()).contains("appliance:          running", "messages:           3",
                "recipients held:    1");
        assertThat(stats.out()).containsPattern("(?m)^example\\.test +[0-9]+ +[0-9]+ +1  [0-9]+s ago$");

        // node A is gone and the primary is back: a flush on node B makes the mail of both nodes due at once (node A,
        // still running, would defer what it claimed: it marks the destination up only when its own probe says so)
        a.close();
        a = null;
        primary.restart();
        Cli.Run flush = cli(configB, "queue", "flush", "example.test");
        assertThat(flush.out()).as(flush.toString()).contains("flush example.test: 2 recipients due now");
        await().atMost(WAIT).until(() -> primary.transactions().size() == 2 && b.queue().list(10).size() == 1);
        assertThat(b.queue().list(10)).singleElement().satisfies(m -> assertThat(m.id().value())
                .isEqualTo(viaA.get(0)));

        Cli.Run offline = cli(configB, "queue", "list", "--offline");
        assertThat(offline.code()).isEqualTo(1);
        assertThat(offline.err()).contains("the shared queue has no files to work on");
        b.close();
        b = null;
        Cli.Run none = cli(configB, "queue", "list");
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("queue.type is postgresql: no node answers on");
    }

    private static List<String> send(Appliance node, String tag, int count) throws Exception {
        List<String> ids = new ArrayList<>();
        Session session = TestMail.session(node.smtpAddress());
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            for (int i = 0; i < count; i++) {
                ids.add(TestMail.send(t, session, TestMail.message(tag + "-" + i, 2), "bob@example.test"));
            }
        }
        return ids;
    }

    private static Cli.Run cli(Path config, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--config");
        all.add(config.toString());
        return Cli.run(all.toArray(String[]::new));
    }

    private Path writeConfig(String node, String url, Path password) throws Exception {
        int adminPort;
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            adminPort = s.getLocalPort();
        }
        Path file = dir.resolve(node + ".yaml");
        Files.writeString(file, "hostname: " + node + ".it.test\n"
                + "screen:\n  spf: off\n" // no SPF lookups through the machine's resolver
                + "smtp:\n  listen: 127.0.0.1:0\n"
                + "domains:\n  example.test:\n    route: 127.0.0.1:" + primary.port() + "\n"
                + "queue:\n  path: " + dir.resolve(node) + "\n  type: postgresql\n  url: " + url + "\n"
                + "  username: " + PostgresServer.USER + "\n  password-file: " + password + "\n"
                + "  node-id: " + node + "\n  lease-time: 1m\n"
                + "delivery:\n  connect-timeout: 1s\n  command-timeout: 1s\n  data-timeout: 1s\n"
                + "probe:\n  interval: 1h\n"
                + "metrics:\n  listen: 127.0.0.1:0\n"
                + "admin:\n  listen: 127.0.0.1:" + adminPort + "\n  token: " + TOKEN + "\n");
        return file;
    }
}
