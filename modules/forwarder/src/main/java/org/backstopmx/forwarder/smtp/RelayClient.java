package org.backstopmx.forwarder.smtp;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLException;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.forwarder.FailurePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One blocking SMTP connection to one destination, carrying one or more messages.
 *
 * <p>Call order: {@link #open} (connect, greeting, EHLO or HELO, STARTTLS by policy), then {@link #send} any number
 * of times (or {@link #verify}, a callout's check of one recipient), then {@link #close} (QUIT). {@code open}
 * always returns a client: when the connection could not be set up, {@link #failure()} says why and every
 * {@code send} reports that failure for each recipient.
 *
 * <p>Guarantees: {@code send} never throws for anything the network or the server does; it returns exactly one
 * {@link RecipientFact} per recipient, in the message's order: what happened, never what it means (that is
 * {@link org.backstopmx.forwarder.FailurePolicy#outcome}). A 421 at any stage, a timeout, a connection lost or a local
 * read error of the stored body ends the connection: every recipient not yet settled is reported
 * {@link RecipientFact.Unsettled} with the {@link SessionFailure}, and later sends report the same. The client checks
 * only whether each reply is the one that lets the dialogue go on (220, 250, 251, 354: RFC 5321 §4.3.2); after a
 * transaction that did not end in 250, RSET is sent before the next one (in the same write when pipelining).
 *
 * <p>Not thread-safe: one thread per connection.
 *
 * <p>Over 400 lines on purpose: it is one SMTP dialogue (greeting, EHLO/HELO, STARTTLS, the pipelined or lock-step
 * transaction, the recipient check of a callout, QUIT) over one connection's state; the transport, the capabilities, the envelope commands, the body
 * copy and the reply parsing are already their own classes, and what each reply means is
 * {@link org.backstopmx.forwarder.FailurePolicy}'s.
 */
public final class RelayClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RelayClient.class);

    private final RelaySettings settings;
    private final SmtpTimeouts timeouts;
    private final SmtpTransport smtp;
    private final String peerName;
    private String host;
    private EhloCapabilities capabilities = EhloCapabilities.NONE;
    private boolean tls;
    private boolean verified;
    private TlsFailure tlsFailure;
    private boolean needsReset;
    private SmtpStage stage = SmtpStage.CONNECT;
    private SessionFailure failure;

    private RelayClient(String hostName, RelaySettings settings) {
        this.host = hostName;
        this.settings = settings;
        this.timeouts = settings.timeouts();
        this.peerName = hostName;
        TlsPolicy policy = settings.tlsPolicy();
        this.smtp = policy.authenticates()
                ? new SmtpTransport(settings.tlsTrust().context(policy, hostName), hostName, policy == TlsPolicy.VERIFY)
                : new SmtpTransport();
    }

    /**
     * Connects to {@code address:port} and makes the session ready for mail.
     *
     * @param hostName the name to record with outcomes (the MX name); the address is appended: {@code name[addr]}
     */
    public static RelayClient open(String hostName, InetAddress address, int port, RelaySettings settings) {
        RelayClient c = new RelayClient(hostName, settings);
        c.host = hostName + "[" + address.getHostAddress() + "]";
        c.start(address, port);
        return c;
    }

    /**
     * A client that never connected because a TLS policy ruled the host out before (an MTA-STS {@code enforce}
     * policy that does not name it): not open, with {@code why} as its {@link #tlsFailure()}.
     */
    public static RelayClient refused(String hostName, RelaySettings settings, TlsFailure why, String detail) {
        RelayClient c = new RelayClient(hostName, settings);
        c.tlsFailure = why;
        c.failure = new SessionFailure(null, SmtpStage.CONNECT, "TLS " + why.label() + ": " + detail);
        return c;
    }

    private void start(InetAddress address, int port) {
        smtp.setConnectTimeout(SmtpTimeouts.millis(timeouts.connect()));
        smtp.setDefaultTimeout(SmtpTimeouts.millis(timeouts.greeting()));
        try {
            try {
                smtp.connect(address, port);
            } catch (IOException e) {
                stage = smtp.tcpConnected() ? SmtpStage.GREETING : SmtpStage.CONNECT;
                if (smtp.lastReplyWas421()) {
                    throw ended(reply(smtp.last()), "greeting");
                }
                throw e;
            }
            stage = SmtpStage.GREETING;
            SmtpReply greeting = reply(smtp.last());
            if (greeting.code() != 220) {
                // RFC 5321 §3.1: a 554 greeting means no service here; for a backup MX that is worth retrying
                throw ended(greeting, "greeting refused");
            }
            hello();
            if (settings.tlsPolicy() != TlsPolicy.NONE && capabilities.startTls()) {
                startTls();
            } else if (settings.tlsPolicy().requiresTls()) {
                throw tlsFailed(TlsFailure.STARTTLS_NOT_OFFERED, "STARTTLS required but not offered", true);
            }
        } catch (SessionEnded e) {
            fail(e.failure, e.quit);
        } catch (IOException e) {
            fail(new SessionFailure(null, stage, describe(e)), false);
        }
    }

    /** EHLO, or HELO when EHLO is refused with 5xx (RFC 5321 §4.1.1.1 / §3.2). */
    private void hello() throws IOException, SessionEnded {
        stage = SmtpStage.EHLO;
        smtp.write(List.of("EHLO " + settings.heloName()));
        SmtpTransport.RawReply raw = smtp.read(SmtpTimeouts.millis(timeouts.command()));
        SmtpReply ehlo = reply(raw);
        if (ehlo.code() == 250) {
            capabilities = EhloCapabilities.parse(raw.lines());
            return;
        }
        if (!FailurePolicy.fallsBackToHelo(ehlo)) {
            throw ended(ehlo, "EHLO");
        }
        smtp.write(List.of("HELO " + settings.heloName()));
        SmtpReply helo = reply(smtp.read(SmtpTimeouts.millis(timeouts.command())));
        if (helo.code() != 250) {
            throw ended(helo, "HELO");
        }
        capabilities = EhloCapabilities.NONE;
    }

    /** STARTTLS (RFC 3207), then EHLO again: what was offered in plain text is forgotten (§4.2). */
    private void startTls() throws IOException, SessionEnded {
        stage = SmtpStage.STARTTLS;
        smtp.setSoTimeout(SmtpTimeouts.millis(timeouts.command()));
        boolean ok;
        try {
            ok = smtp.execTLS();
        } catch (SSLException e) {
            // XXX: opportunistic TLS could retry in plain text on a new connection; for now the attempt is deferred
            if (settings.tlsPolicy().authenticates()) {
                TlsFailure why = TlsFailure.classify(e);
                throw tlsFailed(why, "TLS " + why.label() + " for " + peerName + ": " + e.getMessage(), false);
            }
            throw SessionEnded.without(SmtpStage.STARTTLS, "TLS handshake failed: " + e.getMessage(), false);
        } catch (IOException e) {
            if (smtp.lastReplyWas421()) {
                throw ended(reply(smtp.last()), "STARTTLS");
            }
            throw e;
        }
        if (!ok) {
            SmtpReply refused = reply(smtp.last());
            if (settings.tlsPolicy().requiresTls()) {
                if (settings.tlsPolicy().authenticates()) {
                    tlsFailure = TlsFailure.STARTTLS_NOT_OFFERED;
                }
                throw ended(refused, "STARTTLS refused");
            }
            log.info("{}: STARTTLS refused ({}), going on without TLS", host, refused);
            return;
        }
        tls = true;
        verified = settings.tlsPolicy().authenticates();
        hello();
    }

    /** Whether the server was authenticated (by chain and name, or by pin). */
    public boolean isVerified() {
        return verified;
    }

    /** Why an authenticating TLS level failed; empty when it did not (or the level does not authenticate). */
    public Optional<TlsFailure> tlsFailure() {
        return Optional.ofNullable(tlsFailure);
    }

    /** {@code verified}, {@code encrypted}, {@code plain}, or the failure's label: the TLS metric's result. */
    public String tlsResult() {
        return tlsFailure != null ? tlsFailure.label() : verified ? "verified" : tls ? "encrypted" : "plain";
    }

    private SessionEnded tlsFailed(TlsFailure why, String detail, boolean quit) {
        tlsFailure = why;
        return SessionEnded.without(SmtpStage.STARTTLS, detail.contains(why.label()) ? detail : "TLS " + why.label()
                + ": " + detail, quit);
    }

    /** Whether the connection is ready for {@link #send}. */
    public boolean isOpen() {
        return failure == null;
    }

    /** Why the connection is not usable; empty while it is. */
    public Optional<SessionFailure> failure() {
        return Optional.ofNullable(failure);
    }

    /** What the server offered in its last EHLO (after STARTTLS, the second one); {@link EhloCapabilities#NONE} after HELO. */
    public EhloCapabilities capabilities() {
        return capabilities;
    }

    /** Whether STARTTLS succeeded. */
    public boolean isTls() {
        return tls;
    }

    /** {@code name[address]}, as recorded in outcomes. */
    public String host() {
        return host;
    }

    /**
     * Relays one message: MAIL, RCPT for each recipient and DATA (in one write when the server offers PIPELINING,
     * else one at a time), then the stored bytes dot-stuffed and the final dot.
     *
     * @return what happened to each recipient, in the order of {@code message.recipients()}
     */
    public List<RecipientFact> send(RelayMessage message) {
        List<EnvelopeRecipient> rcpts = message.recipients();
        RecipientFact[] results = new RecipientFact[rcpts.size()];
        if (failure != null) {
            return finishAll(results, rcpts, failure);
        }
        MailExtension lacking = lackingExtension(message);
        if (capabilities.tooLarge(message.size()) || lacking != null) {
            // RFC 1870 §6.1, RFC 6531 §3.2: do not send what the server has said it will refuse
            for (int i = 0; i < results.length; i++) {
                results[i] = capabilities.tooLarge(message.size())
                        ? new RecipientFact.OverSizeLimit(rcpts.get(i), message.size(), capabilities.sizeLimit())
                        : new RecipientFact.LacksExtension(rcpts.get(i), lacking);
            }
            return List.of(results);
        }
        try {
            transaction(message, results);
        } catch (SessionEnded e) {
            fail(e.failure, e.quit);
        } catch (IOException e) {
            fail(new SessionFailure(null, stage, describe(e)), false);
        }
        return finishAll(results, rcpts, failure);
    }

    /** An extension the message needs and the server does not offer (RFC 6531 §3.2), or null. */
    private MailExtension lackingExtension(RelayMessage message) {
        for (MailExtension extension : message.extensions()) {
            if (!capabilities.offers(extension)) {
                return extension;
            }
        }
        return null;
    }

    private void transaction(RelayMessage m, RecipientFact[] results) throws IOException, SessionEnded {
        List<EnvelopeRecipient> rcpts = m.recipients();
        boolean pipelining = capabilities.pipelining();
        boolean reset = needsReset;
        needsReset = true; // until the transaction has delivered
        List<String> commands = new ArrayList<>();
        if (reset) {
            commands.add("RSET");
        }
        commands.add(EnvelopeCommands.mail(m, capabilities));
        if (pipelining) {
            for (EnvelopeRecipient r : rcpts) {
                commands.add(EnvelopeCommands.rcpt(r, capabilities));
            }
            commands.add("DATA"); // RFC 2920 §3.1: DATA may end a pipelined group
            stage = SmtpStage.MAIL;
            smtp.write(commands);
        } else {
            if (reset) {
                stage = SmtpStage.MAIL;
                smtp.write(List.of("RSET"));
                expectRset();
            }
            stage = SmtpStage.MAIL;
            smtp.write(List.of(commands.get(commands.size() - 1)));
        }
        if (reset && pipelining) {
            expectRset();
        }

        SmtpReply mail = read(SmtpStage.MAIL, timeouts.mail());
        boolean mailOk = mail.code() == 250;
        List<Integer> accepted = new ArrayList<>();
        for (int i = 0; i < rcpts.size(); i++) {
            if (!mailOk) {
                results[i] = new RecipientFact.Answered(rcpts.get(i), mail, SmtpStage.MAIL);
                if (pipelining) {
                    read(SmtpStage.RCPT, timeouts.rcpt()); // the 503 that follows a refused MAIL
                }
                continue;
            }
            if (!pipelining) {
                smtp.write(List.of(EnvelopeCommands.rcpt(rcpts.get(i), capabilities)));
            }
            SmtpReply rcpt = read(SmtpStage.RCPT, timeouts.rcpt());
            if (rcpt.code() == 250 || rcpt.code() == 251) {
                accepted.add(i);
            } else {
                results[i] = new RecipientFact.Answered(rcpts.get(i), rcpt, SmtpStage.RCPT);
            }
        }
        if (!pipelining && accepted.isEmpty()) {
            return; // no DATA; RSET before the next message
        }
        if (!pipelining) {
            smtp.write(List.of("DATA"));
        }
        SmtpReply data = read(SmtpStage.DATA, timeouts.data());
        if (accepted.isEmpty()) {
            if (data.code() == 354) {
                // RFC 2920 §3.1: a server that took DATA without recipients gets an empty message, then RSET
                smtp.write(List.of("."));
                read(SmtpStage.DOT, timeouts.dot());
            }
            return;
        }
        if (data.code() != 354) {
            for (int i : accepted) {
                results[i] = new RecipientFact.Answered(rcpts.get(i), data, SmtpStage.DATA);
            }
            return;
        }
        stage = SmtpStage.DATA; // a write failure while the body goes out counts as DATA, the reply after it as DOT
        streamBody(m);
        SmtpReply dot = read(SmtpStage.DOT, timeouts.dot());
        for (int i : accepted) {
            results[i] = new RecipientFact.Answered(rcpts.get(i), dot, SmtpStage.DOT);
        }
        needsReset = dot.code() != 250;
    }

    /**
     * A recipient check (a callout): {@code RSET} when a transaction is open, {@code MAIL FROM:<>},
     * {@code RCPT TO:<address>}, then {@code RSET}; never DATA, so nothing is delivered. The null sender is what
     * RFC 5321 §4.5.5 gives notifications, which a primary must accept.
     *
     * @return the reply to RCPT; empty when there is none: the session failed (then {@link #failure()} says why and the
     *         client is unusable), or the primary refused MAIL (then the session is ended too, as it cannot verify)
     */
    public Optional<SmtpReply> verify(String address) {
        if (failure != null) {
            return Optional.empty();
        }
        try {
            if (needsReset) {
                stage = SmtpStage.MAIL;
                smtp.write(List.of("RSET"));
                expectRset();
                needsReset = false;
            }
            boolean utf8 = address.chars().anyMatch(ch -> ch > 127) && capabilities.smtpUtf8();
            stage = SmtpStage.MAIL;
            smtp.write(List.of("MAIL FROM:<>" + (utf8 ? " SMTPUTF8" : "")));
            needsReset = true;
            SmtpReply mail = read(SmtpStage.MAIL, timeouts.mail());
            if (mail.code() != 250) {
                throw ended(mail, "MAIL FROM:<> refused");
            }
            smtp.write(List.of("RCPT TO:<" + address + ">"));
            SmtpReply rcpt = read(SmtpStage.RCPT, timeouts.rcpt());
            try {
                smtp.write(List.of("RSET"));
                expectRset();
                needsReset = false;
            } catch (SessionEnded e) {
                fail(e.failure, e.quit); // the answer stands; the session does not
            } catch (IOException e) {
                fail(new SessionFailure(null, stage, describe(e)), false);
            }
            return Optional.of(rcpt);
        } catch (SessionEnded e) {
            fail(e.failure, e.quit);
        } catch (IOException e) {
            fail(new SessionFailure(null, stage, describe(e)), false);
        }
        return Optional.empty();
    }

    private void expectRset() throws IOException, SessionEnded {
        SmtpReply rset = read(SmtpStage.MAIL, timeouts.command());
        if (rset.code() != 250) {
            throw ended(rset, "RSET");
        }
    }

    /**
     * The stored bytes as they are, dot-stuffed, then the final dot. A local read error cannot be signalled in
     * SMTP once DATA has begun, so it ends the connection without the final dot (the server then drops the message).
     */
    private void streamBody(RelayMessage m) throws IOException, SessionEnded {
        smtp.setSoTimeout(SmtpTimeouts.millis(timeouts.dataBlock()));
        try {
            BodyCopier.copy(m.body(), smtp.output());
        } catch (BodyCopier.LocalReadError e) {
            throw SessionEnded.localReadError(SmtpStage.DATA, e.getMessage());
        }
    }

    /** Reads one reply at {@code at}; a 421 or an unparseable code ends the session. */
    private SmtpReply read(SmtpStage at, Duration timeout) throws IOException, SessionEnded {
        stage = at;
        SmtpReply r = reply(smtp.read(SmtpTimeouts.millis(timeout)));
        if (FailurePolicy.endsSession(r)) {
            throw ended(r, at.name());
        }
        return r;
    }

    private SmtpReply reply(SmtpTransport.RawReply raw) throws SessionEnded {
        SmtpReply r = RemoteReplies.parse(raw.code(), raw.lines());
        if (r == null) {
            throw SessionEnded.without(stage, "unexpected reply " + raw.lines(), false);
        }
        return r;
    }

    private SessionEnded ended(SmtpReply reply, String what) {
        return SessionEnded.byReply(reply, stage, what);
    }

    private static List<RecipientFact> finishAll(
            RecipientFact[] results, List<EnvelopeRecipient> rcpts, SessionFailure f) {
        for (int i = 0; i < results.length; i++) {
            if (results[i] == null) {
                results[i] = new RecipientFact.Unsettled(rcpts.get(i), f);
            }
        }
        return List.of(results);
    }

    /** The connection is unusable from now on; QUIT only when the server is still talking to us. */
    private void fail(SessionFailure f, boolean quit) {
        failure = f;
        log.info("{}: connection ended at {}: {}", host, f.stage(), f.reply() != null ? f.reply() : f.detail());
        disconnect(quit);
    }

    private void disconnect(boolean quit) {
        if (!smtp.isConnected()) {
            return;
        }
        try {
            if (quit) {
                smtp.write(List.of("QUIT"));
                smtp.read(SmtpTimeouts.millis(timeouts.command()));
            }
        } catch (IOException e) {
            // the server may close first; either way we are done
        } finally {
            try {
                smtp.disconnect();
            } catch (IOException e) {
                log.debug("{}: close failed", host, e);
            }
        }
    }

    /** QUIT and close. Idempotent. */
    @Override
    public void close() {
        if (failure == null) {
            failure = new SessionFailure(null, SmtpStage.CONNECT, "connection closed by us");
            disconnect(true);
        }
    }

    private String describe(IOException e) {
        if (e instanceof ConnectException) {
            return "connection refused";
        }
        if (e instanceof SocketTimeoutException) {
            if ("write timed out".equals(e.getMessage())) {
                return e.getMessage(); // WriteDeadline: the server stopped reading
            }
            return (stage == SmtpStage.CONNECT ? "connect" : "read") + " timed out";
        }
        if (e instanceof org.apache.commons.net.smtp.SMTPConnectionClosedException) {
            return "connection closed by the server";
        }
        String m = e.getMessage();
        return (m == null ? e.getClass().getSimpleName() : m).replaceAll("[\\r\\n]+", " ");
    }
}
