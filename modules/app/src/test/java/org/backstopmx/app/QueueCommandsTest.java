package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.backstopmx.app.config.ConfigLoader;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.testkit.FakePrimaryMx;
import jakarta.mail.Session;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every queue command of the CLI, against a running appliance (through its admin API, with its bearer token) and
 * against the queue files of a stopped one. Mail comes in over SMTP; the primary is down, so it stays queued until a
 * command moves it.
 */
class QueueCommandsTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String TOKEN = "s3cret-token-for-tests";

    @TempDir
    Path dir;

    private FakePrimaryMx primary;
    private FakePrimaryMx senderMx;
    private Path config;
    private int adminPort;
    private Appliance appliance;

    @BeforeEach
    void setUp() throws Exception {
        primary = FakePrimaryMx.start();
        primary.stop();
        senderMx = FakePrimaryMx.start();
        adminPort = freePort();
        config = writeConfig("config.yaml", "token: " + TOKEN);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (appliance != null) {
            appliance.close();
        }
        primary.close();
        senderMx.close();
    }

    private Path writeConfig(String name, String adminLine) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, "hostname: backstop.it.test\n"
                + "screen:\n  spf: off\n" // no SPF lookups through the machine's resolver
                + "smtp:\n  listen: 127.0.0.1:0\n"
                + "domains:\n  example.test:\n    route: 127.0.0.1:" + primary.port() + "\n"
                + "routes:\n  sender.test: 127.0.0.1:" + senderMx.port() + "\n"
                + "queue:\n  path: " + dir.resolve("queue") + "\n"
                + "probe:\n  interval: 1h\n"
                + "metrics:\n  listen: 127.0.0.1:0\n"
                + "admin:\n  listen: 127.0.0.1:" + adminPort + "\n  " + adminLine + "\n");
        return file;
    }

    private void startAppliance() throws Exception {
        BackstopConfig cfg = ConfigLoader.load(Optional.of(config), Map.of());
        appliance = Appliance.start(cfg, Clock.systemUTC());
    }

    private void stopAppliance() {
        appliance.close();
        appliance = null;
    }

    private Cli.Run cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--config");
        all.add(config.toString());
        return Cli.run(all.toArray(String[]::new));
    }

    @Test
    void everyCommandAgainstTheRunningAppliance() throws Exception {
        startAppliance();
        List<String> ids = send(3);
        await().atMost(WAIT).until(() -> appliance.forwarder().isDown("example.test"));

        Cli.Run list = cli("queue", "list");
        assertThat(list.code()).as(list.toString()).isZero();
        assertThat(list.out()).contains(ids.get(0), ids.get(1), ids.get(2), "alice@sender.test", "bob@example.test",
                "-- ", "in 3 Requests.");

        Cli.Run show = cli("queue", "show", ids.get(0));
        assertThat(show.code()).as(show.toString()).isZero();
        assertThat(show.out()).contains("Queue ID:  " + ids.get(0), "Sender:    <alice@sender.test>",
                "HELO client.test", "<bob@example.test>");
        Cli.Run body = cli("queue", "show", "--body", ids.get(0));
        assertThat(body.out()).contains("Received: from client.test").contains("Message-ID: <cli-0@sender.test>");

        Cli.Run hold = cli("queue", "hold", ids.get(0));
        assertThat(hold.code()).as(hold.toString()).isZero();
        assertThat(hold.out()).contains(ids.get(0) + ": 1 recipients held");
        assertThat(ok(cli("queue", "show", ids.get(0)))).contains("HELD");

        Cli.Run stats = cli("stats");
        assertThat(stats.code()).as(stats.toString()).isZero();
        assertThat(stats.out()).contains("appliance:          running", "messages:           3",
                "recipients held:    1", "destinations down:  example.test");
        assertThat(stats.out()).containsPattern("(?m)^example\\.test +[0-9]+ +[0-9]+ +1  [0-9]+s ago$");

        // the primary comes back: a flush sends everything but the held message
        primary.restart();
        Cli.Run flush = cli("queue", "flush", "example.test");
        assertThat(flush.code()).as(flush.toString()).isZero();
        assertThat(flush.out()).contains("flush example.test: 2 recipients due now");
        // the primary has a message before its outcome is recorded: wait for the queue too
        await().atMost(WAIT).until(() -> primary.transactions().size() == 2 && appliance.queue().list(10).size() == 1);
        assertThat(appliance.queue().list(10)).singleElement().satisfies(m -> assertThat(m.id().value())
                .isEqualTo(ids.get(0)));

        assertThat(ok(cli("queue", "release", ids.get(0)))).contains("1 recipients released, due now");
        await().atMost(WAIT).until(() -> primary.transactions().size() == 3 && appliance.queue().list(10).isEmpty());

        // bounce and delete, on new mail held back by a stopped primary
        primary.stop();
        List<String> more = send(2);
        // a recipient whose attempt is running is not bounced (0 returned, nothing changed): ask until it is not
        await().atMost(WAIT).until(() -> {
            Cli.Run bounce = cli("queue", "bounce", more.get(0));
            assertThat(bounce.code()).as(bounce.toString()).isZero();
            return bounce.out().contains("1 recipients returned to the sender");
        });
        await().atMost(WAIT).until(() -> senderMx.transactions().size() == 1);
        assertThat(new String(senderMx.transactions().get(0).data(), StandardCharsets.UTF_8))
                .contains("Action: failed", "Status: 5.0.0", "returned to the sender by the administrator");

        Cli.Run delete = cli("queue", "delete", more.get(1));
        assertThat(delete.code()).as(delete.toString()).isZero();
        assertThat(delete.out()).contains("deleted without notice to the sender");
        // (the DSN leaves the queue once its delivery is recorded, just after the sender's MX has it)
        await().atMost(WAIT).until(() -> appliance.queue().list(10).isEmpty());

        Cli.Run again = cli("queue", "delete", more.get(1));
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("no message " + more.get(1) + " in the queue");
        Cli.Run bad = cli("queue", "hold", "not-an-id");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("not a queue id: not-an-id");
    }

    @Test
    void aWrongOrMissingTokenIsRefusedAndChangesNothing() throws Exception {
        startAppliance();
        String id = send(1).get(0);

        config = writeConfig("wrong.yaml", "token: not-the-token");
        Cli.Run wrong = cli("queue", "delete", id);
        assertThat(wrong.code()).isEqualTo(1);
        assertThat(wrong.err()).contains("refused the token (401");
        assertThat(appliance.queue().find(new org.backstopmx.core.QueueId(id))).isPresent();

        HttpClient http = HttpClient.newHttpClient();
        URI queue = URI.create("http://127.0.0.1:" + adminPort + "/queue/" + id);
        HttpResponse<String> none = http.send(HttpRequest.newBuilder(queue).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("Bearer"));
        HttpResponse<String> right = http.send(HttpRequest.newBuilder(queue)
                .header("Authorization", "Bearer " + TOKEN).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(right.statusCode()).isEqualTo(200);
        assertThat(right.body()).contains("\"id\" : \"" + id + "\"", "bob@example.test");
        assertThat(appliance.queue().find(new org.backstopmx.core.QueueId(id))).isPresent();
    }

    @Test
    void withoutAConfiguredTokenTheApplianceMakesOneThatOnlyItsQueueOwnerCanRead() throws Exception {
        config = writeConfig("config.yaml", "# no token");
        startAppliance();
        Path generated = dir.resolve("queue").resolve("admin.token");
        assertThat(generated).exists();
        assertThat(Files.getPosixFilePermissions(generated)).containsExactlyInAnyOrder(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        String id = send(1).get(0);
        Cli.Run list = cli("queue", "list");
        assertThat(list.code()).as(list.toString()).isZero();
        assertThat(list.out()).contains(id);

        HttpResponse<String> guess = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + adminPort + "/stats")).header("Authorization", "Bearer ").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(guess.statusCode()).isEqualTo(401);
    }

    @Test
    void everyCommandOnTheQueueFilesOfAStoppedAppliance() throws Exception {
        startAppliance();
        List<String> ids = send(4);
        await().atMost(WAIT).until(() -> appliance.forwarder().isDown("example.test"));
        stopAppliance();

        Cli.Run list = cli("queue", "list");
        assertThat(list.code()).as(list.toString()).isZero();
        assertThat(list.out()).contains(ids.get(0), ids.get(3), "in 4 Requests.");
        assertThat(ok(cli("queue", "show", ids.get(1)))).contains("Queue ID:  " + ids.get(1), "HELO client.test");
        assertThat(ok(cli("queue", "show", "--body", ids.get(1)))).contains("Message-ID: <cli-1@sender.test>");
        Cli.Run stats = cli("stats");
        assertThat(stats.out()).contains("stopped (read from the queue files)", "messages:           4");

        assertThat(ok(cli("queue", "hold", ids.get(0)))).contains("1 recipients held");
        assertThat(ok(cli("queue", "show", ids.get(0)))).contains("HELD");
        assertThat(ok(cli("queue", "release", ids.get(0)))).contains("1 recipients released");
        assertThat(ok(cli("queue", "delete", ids.get(1)))).contains("deleted without notice");
        Cli.Run bounce = cli("queue", "bounce", ids.get(2));
        assertThat(bounce.code()).as(bounce.toString()).isZero();
        Cli.Run flush = cli("queue", "flush");
        assertThat(flush.code()).as(flush.toString()).isZero();
        assertThat(flush.out()).contains("flush all domains: 3 recipients due now");
        Cli.Run missing = cli("queue", "release", ids.get(1));
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("no message " + ids.get(1));

        // the DSN for the bounce was queued; at the next start everything goes out at once
        assertThat(ok(cli("queue", "list"))).contains("MAILER-DAEMON", "alice@sender.test");
        primary.restart();
        startAppliance();
        await().atMost(WAIT).until(() -> primary.transactions().size() == 2 && senderMx.transactions().size() == 1
                && appliance.queue().list(10).isEmpty());
        assertThat(new String(senderMx.transactions().get(0).data(), StandardCharsets.UTF_8))
                .contains("Message-ID: <cli-2@sender.test>", "Action: failed");
    }

    @Test
    void aQueueCommandWhileTheApplianceHoldsTheQueueButCannotBeReachedSaysWhy() throws Exception {
        startAppliance();
        Cli.Run r = cli("queue", "list", "--offline");
        assertThat(r.code()).isEqualTo(1);
        // (in another process the message says to use the admin API; here the lock says it is this process's)
        assertThat(r.err()).containsAnyOf("open in a running appliance; use its admin API", "already open");
    }

    /** What a command printed, after checking that it succeeded. */
    private static String ok(Cli.Run run) {
        assertThat(run.code()).as(run.toString()).isZero();
        return run.out();
    }

    private List<String> send(int count) throws Exception {
        Session session = TestMail.session(appliance.smtpAddress());
        List<String> ids = new ArrayList<>();
        try (SMTPTransport t = (SMTPTransport) session.getTransport("smtp")) {
            t.connect();
            for (int i = 0; i < count; i++) {
                ids.add(TestMail.send(t, session, TestMail.message("cli-" + (ids.size() + idsSent), 3),
                        "bob@example.test"));
            }
        }
        idsSent += count;
        return ids;
    }

    private int idsSent;

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
