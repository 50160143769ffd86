package org.backstopmx.smtpin;

import java.util.Collection;
import java.util.Set;
import org.apache.james.protocols.api.ProtocolSessionImpl;
import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.CommandHandler;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.backstopmx.core.SmtpReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DATA: opens the message's spool file ({@link Reception}) and hands the following lines to a
 * {@link DataTransaction} until the end of data; then answers what the transaction says.
 * Replaces James's DataCmdHandler and its in-heap envelope.
 */
final class DataCommand implements CommandHandler<SMTPSession> {
    private static final Logger LOG = LoggerFactory.getLogger(DataCommand.class);

    private final Reception reception;
    private final LineHandler<SMTPSession> receiver = this::onDataLine;

    DataCommand(Reception reception) {
        this.reception = reception;
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
        ConnectionState state = state(session);
        if (state.chunks != null) {
            // RFC 3030 §2: a transaction's content is sent with DATA or with BDAT, never both
            return Replies.response(Replies.DATA_AFTER_BDAT);
        }
        SmtpReply refused = Reception.precondition(session, Replies.DATA_NO_SENDER);
        if (refused != null) {
            return Replies.response(refused);
        }
        if (state.inputPending()) {
            // RFC 2920 §3.1: DATA ends a pipelined group; a client that sends the body before 354 is not speaking SMTP
            LOG.info("reject: DATA from [{}]: {}", Reception.clientAddress(session), Replies.SYNCHRONIZATION);
            return Replies.closing(Replies.SYNCHRONIZATION);
        }
        try {
            state.data = new DataTransaction(reception.open(session));
        } catch (Reception.Refused e) {
            return Replies.response(e.reply);
        }
        session.pushLineHandler(receiver);
        return Replies.response(Replies.START_DATA);
    }

    private Response onDataLine(SMTPSession session, byte[] line) {
        ConnectionState state = state(session);
        DataTransaction tx = state.data;
        if (!tx.onLine(line)) {
            return null;
        }
        SmtpReply reply = tx.finish(reception.clock().instant());
        state.data = null;
        session.popLineHandler();
        return Replies.response(reception.complete(session, tx.spool(), reply, "DATA"));
    }

    /** The framer discarded an over-long line while DATA was being received. */
    static void overlongLine(SMTPSession session, boolean endedWithCrlf) {
        state(session).data.onOverlongLine(endedWithCrlf);
    }

    static ConnectionState state(SMTPSession session) {
        BackstopTransport transport = (BackstopTransport) ((ProtocolSessionImpl) session).getProtocolTransport();
        return ConnectionState.of(transport.channel());
    }
}
