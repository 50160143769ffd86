package org.backstopmx.smtpin;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.List;
import javax.net.ssl.SSLSession;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.smtp.SMTPSession;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.smtpin.spf.SpfVerdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The beginning and the end of receiving a message, the same for DATA and BDAT: the transaction must have a sender
 * and an accepted recipient; the spool file is opened in the queue with our {@code Received:} header first (after
 * the SPF headers, when the sender was checked: {@link SpfHook}); at the
 * end the session's transaction is reset and the outcome counted or logged.
 */
final class Reception {
    private static final Logger LOG = LoggerFactory.getLogger(Reception.class);

    /** The message could not be started; {@link #reply} says why. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        final transient SmtpReply reply;

        Refused(SmtpReply reply) {
            super(reply.toString(), null, false, false);
            this.reply = reply;
        }
    }

    private final MailQueue queue;
    private final Clock clock;
    private final SmtpConfig config;
    private final String hostname;
    private final SmtpMetrics metrics;
    private final PrimaryCapabilities primaries;
    /** Whether SPF is checked ({@code screen.spf} not off): our headers go in, forged ones of ours come out. */
    private final boolean spf;

    Reception(MailQueue queue, Clock clock, SmtpConfig config, String hostname, SmtpMetrics metrics,
            PrimaryCapabilities primaries, boolean spf) {
        this.spf = spf;
        this.queue = queue;
        this.clock = clock;
        this.config = config;
        this.hostname = hostname;
        this.metrics = metrics;
        this.primaries = primaries;
    }

    Clock clock() {
        return clock;
    }

    /**
     * Why no content can be taken in this transaction now, or null.
     *
     * @param noSender the reply for a transaction without MAIL, naming the command
     */
    static SmtpReply precondition(SMTPSession session, SmtpReply noSender) {
        if (session.getAttachment(SMTPSession.SENDER, State.Transaction).isEmpty()) {
            return noSender;
        }
        if (recipients(session).isEmpty()) {
            return Replies.DATA_NO_RECIPIENTS;
        }
        return null;
    }

    /** Opens the spool file of a new message; call after {@link #precondition} found nothing. */
    MessageSpool open(SMTPSession session) throws Refused {
        QueueId id = QueueId.next(clock);
        IncomingMessage message;
        try {
            message = queue.receive(id);
        } catch (QueueException e) {
            LOG.warn("{}: cannot create queue file: {}", id, e.getMessage());
            throw new Refused(e.kind() == QueueException.Kind.STORAGE_FULL ? Replies.STORAGE_FULL : Replies.STORAGE_ERROR);
        }
        MaybeSender sender = session.getAttachment(SMTPSession.SENDER, State.Transaction).orElseThrow();
        List<EnvelopeRecipient> recipients = recipients(session);
        MailParameters.Values params = session.getAttachment(SessionKeys.MAIL_PARAMETERS, State.Transaction)
                .orElseGet(MailParameters.Values::new);
        String helo = session.getAttachment(SMTPSession.CURRENT_HELO_NAME, State.Connection).orElse("");
        SpfVerdict verdict = session.getAttachment(SpfHook.VERDICT, State.Transaction).orElse(null);
        MessageSpool.Context ctx = new MessageSpool.Context(Smtputf8.sender(session, sender), recipients, params.ret,
                params.envId, params.smtpUtf8, clientAddress(session), helo, config.maxMessageSize(),
                config.maxLineLength(), config.maxReceivedHeaders(), primaries,
                verdict == null ? null : verdict.result(), spf ? hostname : null);
        // RFC 7208 §9.1: Received-SPF above our Received:, RFC 8601 §5: Authentication-Results at the very top
        String trace = (verdict == null ? "" : verdict.headers(hostname))
                + received(session, helo, id, recipients, params.smtpUtf8);
        try {
            return new MessageSpool(message, ctx, trace);
        } catch (IOException e) {
            message.abort();
            LOG.warn("{}: cannot write queue file: {}", id, e.getMessage());
            throw new Refused(Replies.STORAGE_ERROR);
        }
    }

    /**
     * The content is complete: judges and commits it ({@code finish}), ends the transaction, and counts a stored
     * message or logs the refusal.
     *
     * @param command DATA or BDAT, for the log
     */
    SmtpReply complete(SMTPSession session, MessageSpool spool, SmtpReply finished, String command) {
        session.resetState();
        if (finished.isPositive()) {
            metrics.stored(spool.recipients(), spool.storedBytes());
        } else {
            LOG.info("{}: reject: {} from [{}]: {}", spool.message().id(), command, clientAddress(session), finished);
        }
        return finished;
    }

    private static List<EnvelopeRecipient> recipients(SMTPSession session) {
        return session.getAttachment(SessionKeys.RECIPIENTS, State.Transaction).orElse(List.of());
    }

    static String clientAddress(SMTPSession session) {
        return session.getRemoteAddress().getAddress().getHostAddress();
    }

    private String received(SMTPSession session, String helo, QueueId id, List<EnvelopeRecipient> recipients,
            boolean smtpUtf8) {
        InetAddress client = session.getRemoteAddress().getAddress();
        boolean esmtp = "EHLO".equals(session.getAttachment(SMTPSession.CURRENT_HELO_MODE, State.Connection).orElse(""));
        SSLSession tls = session.getSSLSession().orElse(null);
        return ReceivedHeader.format(hostname, helo, client, esmtp, smtpUtf8, tls == null ? null : tls.getProtocol(),
                tls == null ? null : tls.getCipherSuite(), id.value(),
                recipients.size() == 1 ? recipients.get(0).address() : null, ZonedDateTime.now(clock));
    }
}
