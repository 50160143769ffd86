package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.backstopmx.testkit.SmtpTranscript;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue commands as an admin runs them: {@code java -jar backstop.jar queue ...} in its own JVM, against a
 * {@code serve} in another (through the admin API and the token it generated), then against its queue files once it
 * has stopped. What the commands print on standard output is their result only; logs never mix in.
 */
class QueueCommandsIT {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    @Test
    void theJarsCommandsAgainstARunningAndAStoppedAppliance() throws Exception {
        int adminPort;
        try (ServerSocket s = new ServerSocket(0)) {
            adminPort = s.getLocalPort();
        }
        // the primary is a closed port: mail stays queued
        Path config = TestMail.writeConfig(dir, "");
        java.nio.file.Files.writeString(config, java.nio.file.Files.readString(config)
                .replace("admin:\n  listen: 127.0.0.1:0\n", "admin:\n  listen: 127.0.0.1:" + adminPort + "\n")
                .replace("  example.test: {}\n", "  example.test:\n    route: 127.0.0.1:9\n"));
        String id;
        try (BackstopProcess backstop = BackstopProcess.serve(config)) {
            try (SmtpTranscript t = new SmtpTranscript(backstop.smtp())) {
                t.reply();
                t.command("EHLO client.test");
                t.command("MAIL FROM:<alice@sender.test>");
                assertThat(t.command("RCPT TO:<bob@example.test>")).startsWith("250");
                assertThat(t.command("DATA")).startsWith("354");
                t.sendRaw("Subject: it\r\n\r\nhello\r\n.\r\n");
                String reply = t.reply();
                Matcher m = Pattern.compile("queued as ([0-9A-F]{16})").matcher(reply);
                assertThat(m.find()).as(reply).isTrue();
                id = m.group(1);
            }
            Run list = run("queue", "list", "--config", config.toString());
            assertThat(list.code()).as(list.err()).isZero();
            assertThat(list.out()).startsWith("-Queue ID-").contains(id, "alice@sender.test", "bob@example.test");
            assertThat(list.out()).doesNotContain("INFO");

            Run stats = run("stats", "--config", config.toString());
            assertThat(stats.code()).as(stats.err()).isZero();
            assertThat(stats.out()).contains("appliance:          running", "messages:           1");

            Run hold = run("queue", "hold", id, "--config", config.toString());
            assertThat(hold.out()).contains(id + ": ");
            assertThat(hold.code()).as(hold.err()).isZero();
            assertThat(backstop.stop()).isZero();
        }

        Run list = run("queue", "list", "--config", config.toString());
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out()).startsWith("-Queue ID-").contains(id, "HELD");
        Run show = run("queue", "show", "--body", id, "--config", config.toString());
        assertThat(show.out()).startsWith("Received: from client.test").endsWith("hello\r\n");
        Run delete = run("queue", "delete", id, "--config", config.toString());
        assertThat(delete.code()).as(delete.err()).isZero();
        assertThat(run("queue", "list", "--config", config.toString()).out()).isEqualTo("Mail queue is empty\n");
        Run again = run("queue", "delete", id, "--config", config.toString());
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("no message " + id);
    }

    private static Run run(String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(BackstopProcess.javaCommand(List.of(), args));
        pb.environment().keySet().removeIf(k -> k.startsWith("BACKSTOP_"));
        Process p = pb.start();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getErrorStream().readAllBytes();
            } catch (java.io.IOException e) {
                return new byte[0];
            }
        });
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("command did not finish: " + String.join(" ", args));
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8),
                new String(err.get(), StandardCharsets.UTF_8));
    }
}
