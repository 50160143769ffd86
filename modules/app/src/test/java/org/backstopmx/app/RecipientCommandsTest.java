package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.backstopmx.app.config.ConfigLoader;
import org.backstopmx.testkit.FakePrimaryMx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code backstop recipients list|forget|import} against a running appliance (its admin API) and on the queue of a
 * stopped one, and what they change at RCPT time while the primary cannot be asked.
 */
class RecipientCommandsTest {
    private static final String TOKEN = "s3cret-token-for-recipient-tests";

    @TempDir
    Path dir;

    private FakePrimaryMx primary;
    private Appliance appliance;
    private Path config;

    @AfterEach
    void tearDown() throws Exception {
        if (appliance != null) {
            appliance.close();
        }
        if (primary != null) {
            primary.close();
        }
    }

    private void start() throws Exception {
        primary = RecipientCalloutTest.primaryKnowing(Set.of("alice", "bob"));
        config = dir.resolve("config.yaml");
        Files.writeString(config, "hostname: backstop.it.test\n"
                + "smtp:\n  listen: 127.0.0.1:0\n"
                + "domains:\n  example.test:\n    route: 127.0.0.1:" + primary.port() + "\n"
                + "    recipient-check: callout\n"
                + "queue:\n  path: " + dir.resolve("queue") + "\n"
                + "probe:\n  interval: 1h\n"
                + "metrics:\n  listen: 127.0.0.1:0\n"
                + "admin:\n  listen: 127.0.0.1:" + QueueCommandsTest.freePort() + "\n  token: " + TOKEN + "\n");
        appliance = Appliance.start(ConfigLoader.load(Optional.of(config), Map.of()), Clock.systemUTC());
    }

    private Cli.Run cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--config");
        all.add(config.toString());
        return Cli.run(all.toArray(String[]::new));
    }

    private String rcpt(String address) throws Exception {
        return RecipientCalloutTest.rcpt(appliance.smtpAddress(), address);
    }

    @Test
    void listForgetAndImportSteerTheCache() throws Exception {
        start();
        assertThat(rcpt("alice@example.test")).startsWith("250");
        assertThat(rcpt("nobody@example.test")).startsWith("550 5.1.1");

        Path file = dir.resolve("imported.txt");
        Files.writeString(file, "# staff\ncarol@example.test\n\n  Dave@Example.test  # new\n");
        Cli.Run imported = cli("recipients", "import", file.toString());
        assertThat(imported.code()).as(imported.toString()).isZero();
        assertThat(imported.out()).contains("2 addresses known as valid until");

        Cli.Run list = cli("recipients", "list");
        assertThat(list.code()).as(list.toString()).isZero();
        assertThat(list.out()).containsPattern("alice@example.test +valid +until .*\\(callout, ")
                .containsPattern("carol@example.test +valid +until .*\\(import, ")
                .containsPattern("dave@example.test +valid ")
                .containsPattern("nobody@example.test +invalid .*" + RecipientCalloutTest.UNKNOWN_TEXT);

        Cli.Run forget = cli("recipients", "forget", "alice@example.test");
        assertThat(forget.code()).as(forget.toString()).isZero();
        assertThat(forget.out()).contains("alice@example.test: forgotten");
        Cli.Run again = cli("recipients", "forget", "alice@example.test");
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("alice@example.test is not known to the recipient cache");

        Path other = dir.resolve("other.txt");
        Files.writeString(other, "erin@example.test\neve@other.test\n");
        Cli.Run refused = cli("recipients", "import", other.toString());
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.err()).contains("not an address at a domain with recipient-check: callout",
                "eve@other.test", "nothing imported");
        Files.writeString(other, "just-a-name\n");
        Cli.Run malformed = cli("recipients", "import", other.toString());
        assertThat(malformed.code()).isEqualTo(2);
        assertThat(malformed.err()).contains("line 1 (just-a-name) is not an address");

        // the primary goes away: the cache as steered decides
        primary.stop();
        assertThat(rcpt("carol@example.test")).startsWith("250");
        assertThat(rcpt("alice@example.test")).startsWith("450 4.1.1");
        assertThat(rcpt("erin@example.test")).startsWith("450 4.1.1");
        assertThat(rcpt("nobody@example.test")).startsWith("550 5.1.1");

        // on the files of the stopped appliance
        appliance.close();
        appliance = null;
        Cli.Run offline = cli("recipients", "list", "--domain", "example.test", "--json");
        assertThat(offline.code()).as(offline.toString()).isZero();
        assertThat(offline.out()).contains("\"address\" : \"carol@example.test\"", "\"source\" : \"IMPORT\"")
                .doesNotContain("alice@example.test");
        Cli.Run offlineForget = cli("recipients", "forget", "carol@example.test");
        assertThat(offlineForget.code()).as(offlineForget.toString()).isZero();
        assertThat(cli("recipients", "list").out()).doesNotContain("carol@example.test");
    }
}
