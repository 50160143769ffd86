package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The classic relay-test addresses, sent over the wire to a server that serves example.test (any recipient),
 * listed.test (a list of local parts) and filed.test (a recipients file).
 */
class RelayControlTest {
    @TempDir
    static Path dir;
    private static ServerFixture fx;

    @BeforeAll
    static void start() throws Exception {
        Path file = dir.resolve("filed.recipients");
        Files.writeString(file, "# staff\ncarol@filed.test\nDave@FILED.test  # case does not matter\n\n");
        Path catchAll = dir.resolve("catchall.recipients");
        Files.writeString(catchAll, "@catchall.test\n");
        fx = new ServerFixture(SmtpConfig.defaults(), Map.of(
                "example.test", DomainConfig.acceptAll("example.test"),
                "listed.test", new DomainConfig("listed.test", null, Set.of("alice", "bob"), null),
                "filed.test", new DomainConfig("filed.test", null, null, file),
                "catchall.test", new DomainConfig("catchall.test", null, Set.of(), catchAll)));
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    @ParameterizedTest(name = "RCPT TO:{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        // accepted
        "<user@example.test>                       | 250 2.1.5",
        "<USER@EXAMPLE.TEST>                       | 250 2.1.5",
        "<first.last+tag@example.test>             | 250 2.1.5",
        "<alice@listed.test>                       | 250 2.1.5",
        "<ALICE@listed.test>                       | 250 2.1.5",
        "<carol@filed.test>                        | 250 2.1.5",
        "<dave@filed.test>                         | 250 2.1.5",
        "<anyone@catchall.test>                    | 250 2.1.5",
        // RFC 5321 §4.5.1: the bare reserved mailbox, in any case, goes to postmaster@ the first served domain
        "<postmaster>                              | 250 2.1.5 Recipient <postmaster@catchall.test> OK",
        "<Postmaster>                              | 250 2.1.5 Recipient <postmaster@catchall.test> OK",
        "<POSTMASTER> NOTIFY=NEVER                 | 250 2.1.5 Recipient <postmaster@catchall.test> OK",
        // recipient validation
        "<mallory@listed.test>                     | 550 5.1.1",
        "<erin@filed.test>                         | 550 5.1.1",
        // relay attempts
        "<user@other.test>                         | 550 5.7.1",
        "<postmaster@other.test>                   | 550 5.7.1",
        "<abuse@evil.test>                         | 550 5.7.1",
        "<user%other.test@example.test>            | 550 5.7.1",
        "<user%other.test@[127.0.0.1]>             | 550 5.7.1",
        "<user@[127.0.0.1]>                        | 550 5.7.1",
        "<\"user@other.test\"@example.test>        | 550 5.7.1",
        "<\"user%other.test\"@example.test>        | 550 5.7.1",
        "<\"user\"@example.test>                   | 550 5.7.1",
        "<other.test!user@example.test>            | 550 5.7.1",
        "<other.test!user>                         | 550 5.7.1",
        "<user@sub.example.test>                   | 550 5.7.1",
        "<user@example.test.other.test>            | 550 5.7.1",
        "<user@exampleXtest>                       | 550 5.7.1",
        "<user@localhost>                          | 550 5.7.1",
        "<user>                                    | 550 5.7.1",
        "<postmaster@localhost>                    | 550 5.7.1",
        "<postmaster@listed.test>                  | 550 5.1.1",
        "<postmasters>                             | 550 5.7.1",
        "<\"postmaster\">                            | 550 5.7.1",
        "<user%example.test@example.test>          | 550 5.7.1",
        "<user%other.test%example.test@example.test> | 550 5.7.1",
        // syntax errors never reach the relay check, and are never accepted
        "<@example.test:user@other.test>           | 553 5.1.3",
        "<@a.test,@example.test:user@other.test>   | 553 5.1.3",
        "<user@other.test@example.test>            | 553 5.1.3",
        "<user@@example.test>                      | 553 5.1.3",
        "<user@example.test.>                      | 553 5.1.3",
        "<user@other.test.>                        | 553 5.1.3",
        "<>                                        | 553 5.1.3",
        "user@example.test                         | 501 5.5.2",
    })
    void relayTable(String recipient, String expected) throws Exception {
        try (SmtpTranscript t = fx.client()) {
            assertThat(t.command("MAIL FROM:<tester@relay-test.example>")).startsWith("250");
            assertThat(t.command("RCPT TO:" + recipient)).startsWith(expected);
        }
    }

    @Test
    void postmasterWithoutADomainGoesToTheConfiguredAddressAndIsStored() throws Exception {
        try (ServerFixture own = new ServerFixture(SmtpConfig.defaults().withPostmaster("hostmaster@listed.test"),
                Map.of("example.test", DomainConfig.acceptAll("example.test"),
                        "listed.test", new DomainConfig("listed.test", null, Set.of("hostmaster"), null)));
                SmtpTranscript t = own.client()) {
            assertThat(t.command("MAIL FROM:<tester@relay-test.example>")).startsWith("250");
            assertThat(t.command("RCPT TO:<Postmaster>")).isEqualTo("250 2.1.5 Recipient <hostmaster@listed.test> OK");
            assertThat(t.command("RCPT TO:<postmaster@other.test>")).startsWith("550 5.7.1");
            assertThat(t.command("DATA")).startsWith("354");
            t.sendRaw("Subject: s\r\n\r\nbody\r\n.\r\n");
            assertThat(t.reply()).startsWith("250 2.0.0");
            assertThat(own.queue.stored()).singleElement().satisfies(m -> assertThat(m.envelope().recipients())
                    .extracting(r -> r.address()).containsExactly("hostmaster@listed.test"));
        }
        // not set: postmaster@ the served domain our hostname (mx2.backstop.test) is in
        try (ServerFixture own = new ServerFixture(SmtpConfig.defaults(), Map.of(
                "aaa.test", DomainConfig.acceptAll("aaa.test"), "backstop.test", DomainConfig.acceptAll("backstop.test")));
                SmtpTranscript t = own.client()) {
            assertThat(t.command("MAIL FROM:<tester@relay-test.example>")).startsWith("250");
            assertThat(t.command("RCPT TO:<postmaster>")).isEqualTo("250 2.1.5 Recipient <postmaster@backstop.test> OK");
        }
    }

    @Test
    void nothingOutsideTheServedDomainsWasEverQueued() throws Exception {
        try (SmtpTranscript t = fx.client()) {
            t.command("MAIL FROM:<tester@relay-test.example>");
            assertThat(t.command("RCPT TO:<postmaster@other.test>")).startsWith("550 5.7.1");
            assertThat(t.command("DATA")).startsWith("554 5.5.1");
        }
        assertThat(fx.queue.stored()).isEmpty();
    }
}
