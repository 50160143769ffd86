package org.backstopmx.app;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One SMTP client session of a training run: EHLO, then message after message over the same connection, each one
 * MAIL, RCPT, DATA and a body of about {@code size} bytes, every reply checked; QUIT. Also ETRN, as the primary sends
 * it when it is back.
 */
final class TrainingSender implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;

    TrainingSender(InetSocketAddress server) throws IOException {
        socket = new Socket();
        socket.connect(server, 10_000);
        socket.setSoTimeout(60_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        out = socket.getOutputStream();
        expect("greeting", 220);
        command("EHLO client.training.test", 250);
    }

    /** Sends {@code count} messages of about {@code size} bytes to {@code rcpt}. */
    void send(int count, int size, String rcpt, String tag) throws IOException {
        byte[] body = body(size, tag);
        for (int i = 0; i < count; i++) {
            command("MAIL FROM:<sender@training.test> SIZE=" + body.length, 250);
            command("RCPT TO:<" + rcpt + ">", 250);
            command("DATA", 354);
            out.write(body);
            out.write((".\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            expect("the end of DATA", 250);
        }
    }

    /** ETRN for {@code domain} (RFC 1985): 250 when the appliance starts delivering. */
    void etrn(String domain) throws IOException {
        command("ETRN " + domain, 250);
    }

    private static byte[] body(int size, String tag) {
        StringBuilder b = new StringBuilder(size + 200)
                .append("From: <sender@training.test>\r\n")
                .append("To: <training@training.test>\r\n")
                .append("Subject: training run ").append(tag).append("\r\n")
                .append("Message-ID: <").append(tag).append("@client.training.test>\r\n")
                .append("\r\n");
        String line = "x".repeat(76) + "\r\n";
        while (b.length() < size) {
            b.append(line);
        }
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private void command(String line, int want) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        expect(line, want);
    }

    /** Reads one reply, all its lines, and fails unless its code is {@code want}. */
    private void expect(String after, int want) throws IOException {
        String line;
        do {
            line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed after " + after);
            }
        } while (line.length() > 3 && line.charAt(3) == '-');
        if (!line.startsWith(Integer.toString(want))) {
            throw new IOException("after " + after + ": " + line + " (wanted " + want + ")");
        }
    }

    @Override
    public void close() throws IOException {
        try {
            command("QUIT", 221);
        } finally {
            socket.close();
        }
    }
}
