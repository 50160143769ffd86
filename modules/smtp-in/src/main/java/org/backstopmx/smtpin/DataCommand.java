package org.backstopmx.smtpin;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLSession;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.ProtocolSessionImpl;
import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.CommandHandler;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.config.SmtpConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DATA: opens the message's spool file in the queue, writes our {@code Received:} header first and hands the
 * following lines to a {@link DataTransaction} until the end of data; then answers what the transaction says.
 * Replaces James's DataCmdHandler and its in-heap envelope.
 */
final class DataCommand implements CommandHandler<SMTPSession> {
    private static final Logger LOG = LoggerFactory.getLogger(DataCommand.class);

    private final MailQueue queue;
    private final Clock clock;
    private final SmtpConfig config;
    private final String hostname;
    private final SmtpMetrics metrics;
    private final PrimaryCapabilities primaries;
    private final LineHandler<SMTPSession> receiver = this::onDataLine;

    DataCommand(MailQueue queue, Clock clock, SmtpConfig config, String hostname, SmtpMetrics metrics,
            PrimaryCapabilities primaries) {
        this.queue = queue;
        this.clock = clock;
        this.config = config;
        this.hostname = hostname;
        this.metrics = metrics;
        this.primaries = primaries;
    }

    @Override
    public Collection<String> getImplCommands() {
        return Set.of("DATA");
    }

    @Override
    public Response onCommand(SMTPSession session, Request request) {
        if (request.getArgument() != null && !request.getArgument().isBlank()) {
            return Replies.response(Replies.DATA_ARGUMENT);
        }
        MaybeSender sender = session.getAttachment(SMTPSession.SENDER, State.Transaction).orElse(null);
        if (sender == null) {
            return Replies.response(Replies.DATA_NO_SENDER);
        }
        List<EnvelopeRecipient> recipients = session.getAttachment(SessionKeys.RECIPIENTS, State.Transaction).orElse(List.of());
        if (recipients.isEmpty()) {
            return Replies.response(Replies.DATA_NO_RECIPIENTS);
        }
        ConnectionState state = state(session);
        String ip = session.getRemoteAddress().getAddress().getHostAddress();
        if (state.inputPending()) {
            // RFC 2920 §3.1: DATA ends a pipelined group; a client that sends the body before 354 is not speaking SMTP
            LOG.info("reject: DATA from [{}]: {}", ip, Replies.SYNCHRONIZATION);
            return Replies.closing(Replies.SYNCHRONIZATION);
        }
        QueueId id = QueueId.next(clock);
        IncomingMessage message;
        try {
            message = queue.receive(id);
        } catch (QueueException e) {
            LOG.warn("{}: cannot create queue file: {}", id, e.getMessage());
            return Replies.response(e.kind() == QueueException.Kind.STORAGE_FULL ? Replies.STORAGE_FULL : Replies.STORAGE_ERROR);
        }
        MailParameters.Values params = session.getAttachment(SessionKeys.MAIL_PARAMETERS, State.Transaction)
                .orElseGet(MailParameters.Values::new);
        String helo = session.getAttachment(SMTPSession.CURRENT_HELO_NAME, State.Connection).orElse("");
        DataTransaction.Context ctx = new DataTransaction.Context(Smtputf8.sender(session, sender), recipients,
                params.ret, params.envId, params.smtpUtf8, ip, helo, config.maxMessageSize(), config.maxLineLength(),
                config.maxReceivedHeaders(), primaries);
        try {
            state.data = new DataTransaction(message, ctx, received(session, helo, id, recipients, params.smtpUtf8));
        } catch (IOException e) {
            message.abort();
            LOG.warn("{}: cannot write queue file: {}", id, e.getMessage());
            return Replies.response(Replies.STORAGE_ERROR);
        }
        session.pushLineHandler(receiver);
        return Replies.response(Replies.START_DATA);
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

    private Response onDataLine(SMTPSession session, byte[] line) {
        ConnectionState state = state(session);
        DataTransaction tx = state.data;
        if (!tx.onLine(line)) {
            return null;
        }
        return endOfData(session, state, tx);
    }

    /** The framer discarded an over-long line while DATA was being received. */
    static void overlongLine(SMTPSession session, boolean endedWithCrlf) {
        state(session).data.onOverlongLine(endedWithCrlf);
    }

    private Response endOfData(SMTPSession session, ConnectionState state, DataTransaction tx) {
        SmtpReply reply = tx.finish(clock.instant());
        state.data = null;
        session.popLineHandler();
        session.resetState();
        if (reply.isPositive()) {
            metrics.stored(tx.recipients(), tx.storedBytes());
        } else {
            LOG.info("{}: reject: DATA from [{}]: {}", tx.message().id(), session.getRemoteAddress().getAddress()
                    .getHostAddress(), reply);
        }
        return Replies.response(reply);
    }

    static ConnectionState state(SMTPSession session) {
        BackstopTransport transport = (BackstopTransport) ((ProtocolSessionImpl) session).getProtocolTransport();
        return ConnectionState.of(transport.channel());
    }
}
