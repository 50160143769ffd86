package org.backstopmx.forwarder.smtp;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.apache.commons.net.smtp.AuthenticatingSMTPClient;
import org.apache.commons.net.smtp.SMTPConnectionClosedException;

/**
 * The Commons Net client as a thin transport: it connects, reads replies and does the STARTTLS handshake; the
 * commands are written here as raw bytes so that several can go in one write (PIPELINING, RFC 2920) and the
 * message body can be streamed without Commons Net's per-character {@code Writer}.
 *
 * <p>Not thread-safe; one per connection.
 */
final class SmtpTransport extends AuthenticatingSMTPClient {

    /** A reply as read: the code and the raw lines ({@code 250-...}). */
    record RawReply(int code, List<String> lines) {
    }

    private boolean tcpConnected;

    SmtpTransport() {
        super(false, TrustAll.CONTEXT);
    }

    /**
     * A transport that authenticates the server in STARTTLS: {@code context} holds the trust (CAs or pins); with
     * {@code checkName} Commons Net turns on the JDK's endpoint identification ("HTTPS", RFC 6125 rules) for
     * {@code peerName}, which is also what the handshake sends as SNI (RFC 6066 §3).
     */
    SmtpTransport(SSLContext context, String peerName, boolean checkName) {
        super(false, context);
        this.peerName = peerName;
        setEndpointCheckingEnabled(checkName);
    }

    private String peerName;

    @Override
    protected void _connectAction_() throws IOException {
        if (peerName != null) {
            _hostname_ = peerName; // execTLS names the TLS socket by it: SNI and the endpoint check
        }
        connectAction();
    }

    /** Whether the TCP connection was made (so a failure in {@code connect} was at the greeting, not the connect). */
    boolean tcpConnected() {
        return tcpConnected;
    }

    private void connectAction() throws IOException {
        tcpConnected = true;
        super._connectAction_(); // reads the greeting
    }

    InetAddress remoteAddress() {
        return _socket_ == null ? null : _socket_.getInetAddress();
    }

    /**
     * The socket's output, for the message body, each write with a deadline ({@link WriteDeadline}). Everything
     * Commons Net writes is flushed before it returns.
     */
    OutputStream output() {
        return WriteDeadline.guard(_output_, _socket_);
    }

    Socket socket() {
        return _socket_;
    }

    /** Writes these command lines (each followed by CRLF) in one write, UTF-8 encoded, and flushes. */
    void write(List<String> lines) throws IOException {
        StringBuilder b = new StringBuilder();
        for (String line : lines) {
            b.append(line).append("\r\n");
        }
        OutputStream out = output();
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /**
     * Reads the next reply within {@code timeoutMillis}. Unlike {@link #getReply()}, a 421 is returned (the caller
     * ends the session) rather than thrown; a connection closed without a reply still throws.
     */
    RawReply read(int timeoutMillis) throws IOException {
        setSoTimeout(timeoutMillis);
        try {
            getReply();
        } catch (SMTPConnectionClosedException e) {
            if (!lastReplyWas421()) {
                throw e;
            }
        }
        return last();
    }

    /** The reply last read, also after {@code connect} or {@code execTLS} threw on a 421. */
    RawReply last() {
        return new RawReply(getReplyCode(), List.of(getReplyStrings()));
    }

    /** Commons Net throws on a 421 after recording it; on a closed connection it records no lines. */
    boolean lastReplyWas421() {
        return getReplyCode() == 421 && getReplyStrings().length > 0;
    }

    /**
     * Trusts every certificate: used only for opportunistic STARTTLS, where the alternative is plain text
     * (RFC 7435). Hostname checking is off too (the default of {@code SMTPSClient}).
     */
    private static final class TrustAll implements X509TrustManager {
        static final SSLContext CONTEXT = context();

        private static SSLContext context() {
            try {
                SSLContext c = SSLContext.getInstance("TLS");
                c.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
                return c;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("no TLS in this JVM", e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
