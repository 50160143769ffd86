package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code java -jar backstop.jar serve} with no file: example.test on 127.0.0.1:2525, queue in ./data. */
class EmbeddedDefaultsIT {
    @TempDir
    Path dir;

    @Test
    void servesExampleTestOnLoopback2525() throws Exception {
        assumeTrue(portFree(2525), "port 2525 is taken on this machine");
        try (BackstopProcess backstop = BackstopProcess.serveDefaults(dir)) {
            assertThat(backstop.smtp().getPort()).isEqualTo(2525);
            try (SmtpTranscript t = new SmtpTranscript(new InetSocketAddress("127.0.0.1", 2525))) {
                assertThat(t.reply()).startsWith("220 ");
                t.command("EHLO client.test");
                assertThat(t.command("MAIL FROM:<a@sender.test>")).startsWith("250");
                assertThat(t.command("RCPT TO:<anyone@example.test>")).startsWith("250");
                assertThat(t.command("RCPT TO:<anyone@example.org>")).startsWith("550 5.7.1");
                assertThat(t.command("DATA")).startsWith("354");
                t.sendRaw("Subject: defaults\r\n\r\nhello\r\n.\r\n");
                assertThat(t.reply()).startsWith("250 2.0.0");
            }
            assertThat(backstop.stop()).isZero();
        }
        assertThat(Files.isDirectory(dir.resolve("data").resolve("spool"))).isTrue();
    }

    private static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
