package org.backstopmx.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Submits messages to an SMTP server in lock-step over one connection (EHLO once, then MAIL, RCPT..., DATA per
 * message), the way a test hands mail to a real MTA such as {@link PostfixSender}. Addresses and content are sent as
 * UTF-8; a message with a non-ASCII address is sent with the {@code SMTPUTF8} parameter (RFC 6531 §3.4). Every reply
 * other than the expected one throws with the reply, so a submission that did not go through cannot pass unnoticed.
 */
public final class SmtpSubmission implements AutoCloseable {
    private final SmtpTranscript smtp;

    public SmtpSubmission(InetSocketAddress server) throws IOException {
        smtp = new SmtpTranscript(server, 30_000);
        expect("220", smtp.reply(), "greeting");
        expect("250", command("EHLO submitter.test"), "EHLO");
    }

    /** One message: {@code content} is the message as it is to arrive (CRLF line ends), dot-stuffed here. */
    public void send(String from, List<String> to, byte[] content) throws IOException {
        boolean utf8 = !isAscii(from) || to.stream().anyMatch(a -> !isAscii(a));
        expect("250", command("MAIL FROM:<" + from + ">" + (utf8 ? " SMTPUTF8" : "")), "MAIL FROM");
        for (String rcpt : to) {
            expect("250", command("RCPT TO:<" + rcpt + ">"), "RCPT TO:<" + rcpt + ">");
        }
        expect("354", command("DATA"), "DATA");
        smtp.sendBytes(dotStuffed(content));
        expect("250", smtp.reply(), "end of DATA");
    }

    @Override
    public void close() throws IOException {
        try {
            command("QUIT");
        } finally {
            smtp.close();
        }
    }

    private String command(String line) throws IOException {
        smtp.sendBytes((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        return smtp.reply();
    }

    private static void expect(String code, String reply, String what) {
        if (reply == null || !reply.startsWith(code)) {
            throw new IllegalStateException(what + ": expected " + code + ", got " + reply);
        }
    }

    private static boolean isAscii(String s) {
        return s.chars().allMatch(c -> c < 0x80);
    }

    /** RFC 5321 §4.5.2: a leading dot doubled, then the terminating {@code .CRLF}. */
    private static byte[] dotStuffed(byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 16);
        boolean lineStart = true;
        for (byte b : content) {
            if (lineStart && b == '.') {
                out.write('.');
            }
            out.write(b);
            lineStart = b == '\n';
        }
        if (!lineStart) {
            out.write('\r');
            out.write('\n');
        }
        out.writeBytes(".\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }
}
