package org.backstopmx.app;

import jakarta.mail.Address;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.angus.mail.smtp.SMTPTransport;

/** Sending real mail with Angus Mail's SMTP transport, and the test messages it sends. */
final class TestMail {
    private static final Pattern QUEUED = Pattern.compile("queued as ([0-9A-F]{16})");

    private TestMail() {
    }

    /**
     * A message that exercises byte-exact storage: 8-bit text, a line of 998 octets (RFC 5321's limit without CRLF),
     * lines that start with a dot (dot-stuffed on the wire), CRLF line endings throughout.
     */
    static byte[] message(String tag, int bodyLines) {
        StringBuilder b = new StringBuilder();
        b.append("From: Alice <alice@sender.test>\r\n")
                .append("To: bob@example.test\r\n")
                .append("Subject: test ").append(tag).append("\r\n")
                .append("Message-ID: <").append(tag).append("@sender.test>\r\n")
                .append("MIME-Version: 1.0\r\n")
                .append("Content-Type: text/plain; charset=ISO-8859-1\r\n")
                .append("Content-Transfer-Encoding: 8bit\r\n")
                .append("\r\n")
                .append("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u00ff\u00fe\r\n")
                .append(".leading dot\r\n")
                .append("..two dots\r\n")
                .append(".\u00e9\r\n")
                .append("x".repeat(998)).append("\r\n");
        for (int i = 0; i < bodyLines; i++) {
            b.append("line ").append(i).append(" of message ").append(tag).append("\r\n");
        }
        b.append(".\r\n.end\r\n");
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    static Session session(InetSocketAddress server) {
        Properties p = new Properties();
        p.put("mail.smtp.host", server.getHostString());
        p.put("mail.smtp.port", String.valueOf(server.getPort()));
        p.put("mail.smtp.localhost", "client.test");
        p.put("mail.smtp.from", "alice@sender.test");
        p.put("mail.smtp.connectiontimeout", "10000");
        p.put("mail.smtp.timeout", "60000");
        return Session.getInstance(p);
    }

    /** Sends {@code raw} over an open transport; returns the queue id from the 250 reply. */
    static String send(SMTPTransport transport, Session session, byte[] raw, String... recipients) throws Exception {
        MimeMessage m = new MimeMessage(session, new ByteArrayInputStream(raw));
        Address[] to = new Address[recipients.length];
        for (int i = 0; i < to.length; i++) {
            to[i] = new InternetAddress(recipients[i]);
        }
        transport.sendMessage(m, to);
        String reply = transport.getLastServerResponse();
        Matcher matcher = QUEUED.matcher(reply);
        if (!reply.startsWith("250") || !matcher.find()) {
            throw new AssertionError("unexpected reply: " + reply);
        }
        return matcher.group(1);
    }

    /** What Angus writes for {@code raw}: the same bytes, since the message is not modified. */
    static byte[] onTheWire(Session session, byte[] raw) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new MimeMessage(session, new ByteArrayInputStream(raw)).writeTo(out);
        return out.toByteArray();
    }

    static Path writeConfig(Path dir, String extra) throws Exception {
        Path config = dir.resolve("backstop.yaml");
        Files.writeString(config, "hostname: backstop.it.test\n"
                + "smtp:\n  listen: 127.0.0.1:0\n"
                + "domains:\n  example.test: {}\n"
                + "queue:\n  path: " + dir.resolve("queue") + "\n"
                + "metrics:\n  listen: 127.0.0.1:0\n"
                + "admin:\n  listen: 127.0.0.1:0\n"
                // no SPF check: it would ask the machine's resolver about the test senders' domains
                + (extra.contains("screen:") ? "" : "screen:\n  spf: off\n")
                + extra);
        return config;
    }
}
