package org.backstopmx.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw SMTP client for transcript tests: sends exact bytes, reads exact replies (multi-line replies joined with
 * {@code \n}). Every read has a timeout so a test cannot hang.
 */
public final class SmtpTranscript implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public SmtpTranscript(InetSocketAddress address) throws IOException {
        this(address, 10_000);
    }

    public SmtpTranscript(InetSocketAddress address, int timeoutMillis) throws IOException {
        this(address, null, timeoutMillis);
    }

    /**
     * Connects from {@code local} (any port), so that the server sees that client address: on Linux every address of
     * 127.0.0.0/8 is on the loopback interface, so {@code 127.0.0.2} stands for a second client host. Null: any.
     */
    public SmtpTranscript(InetSocketAddress address, java.net.InetAddress local, int timeoutMillis) throws IOException {
        socket = new Socket();
        if (local != null) {
            socket.bind(new InetSocketAddress(local, 0));
        }
        socket.connect(address, timeoutMillis);
        socket.setSoTimeout(timeoutMillis);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    public Socket socket() {
        return socket;
    }

    /** Sends {@code line} followed by CRLF. */
    public SmtpTranscript send(String line) throws IOException {
        return sendRaw(line + "\r\n");
    }

    /** Sends exactly these characters (ISO-8859-1, so any byte can be written). */
    public SmtpTranscript sendRaw(String raw) throws IOException {
        return sendBytes(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    public SmtpTranscript sendBytes(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Reads one complete reply (all its lines); null at end of stream. */
    public String reply() throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line == null) {
                return lines.isEmpty() ? null : String.join("\n", lines);
            }
            lines.add(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                return String.join("\n", lines);
            }
        }
    }

    /** Sends a command and returns its reply. */
    public String command(String line) throws IOException {
        send(line);
        return reply();
    }

    /** Whether the server closed the connection (reads until EOF, within the timeout). */
    public boolean closedByServer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
