package org.backstopmx.smtpin;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.CommandHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.esmtp.EhloExtension;
import org.backstopmx.core.SmtpReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code BDAT <size> [LAST]} (RFC 3030 CHUNKING, advertised in EHLO; BINARYMIME is not, so BODY=BINARYMIME is
 * refused at MAIL). After the command line the framer passes exactly {@code size} octets to this command as
 * {@link ChunkOctets} instead of lines, and the reply is sent once they are all in: {@code 250 2.0.0 <n> octets
 * received}, or after LAST the same reply as at the end of DATA, given after the queue's fsync.
 *
 * <p>The sequence, as in Postfix's smtpd: a malformed command is answered {@code 521 5.5.4} and the session is
 * closed, since the octets that follow cannot be told from commands; BDAT without MAIL ({@code 503 5.5.1}) or
 * without an accepted RCPT ({@code 554 5.5.1}) still has its octets read and discarded (RFC 3030 §3: the server
 * must stay in step with a pipelining client); DATA and RCPT after BDAT get {@code 503 5.5.1} until LAST or RSET.
 * {@code BDAT 0} is an empty chunk; {@code BDAT 0 LAST} ends the message.
 */
final class BdatCommand implements CommandHandler<SMTPSession>, EhloExtension {
    private static final Logger LOG = LoggerFactory.getLogger(BdatCommand.class);
    /** RFC 3030 §2: chunk-size = 1*DIGIT; more than 18 digits may not fit a long, and is beyond any limit. */
    private static final Pattern SYNTAX = Pattern.compile("([0-9]{1,18})(?: +(LAST))?", Pattern.CASE_INSENSITIVE);

    private final Reception reception;

    BdatCommand(Reception reception) {
        this.reception = reception;
    }

    @Override
    public Collection<String> getImplCommands() {
        return Set.of("BDAT");
    }

    @Override
    public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
        return List.of("CHUNKING");
    }

    @Override
    public Response onCommand(SMTPSession session, Request request) {
        Matcher m = SYNTAX.matcher(request.getArgument() == null ? "" : request.getArgument());
        if (!m.matches()) {
            LOG.info("reject: BDAT from [{}]: malformed: {}", Reception.clientAddress(session), request.getArgument());
            return Replies.closing(Replies.BDAT_SYNTAX);
        }
        long size = Long.parseLong(m.group(1));
        boolean last = m.group(2) != null;
        ConnectionState state = DataCommand.state(session);
        ChunkedTransaction.Chunk chunk;
        if (state.chunks != null) {
            chunk = state.chunks.chunk(size, last);
        } else {
            SmtpReply refused = Reception.precondition(session, Replies.BDAT_NO_SENDER);
            if (refused != null) {
                chunk = new ChunkedTransaction.Chunk(size, last, refused);
            } else {
                state.chunks = start(session);
                chunk = state.chunks.chunk(size, last);
            }
        }
        if (size == 0) {
            return endOfChunk(session, state, chunk);
        }
        state.chunk = chunk;
        return null; // answered when its octets are in (onOctets)
    }

    private ChunkedTransaction start(SMTPSession session) {
        try {
            return new ChunkedTransaction(reception.open(session));
        } catch (Reception.Refused e) {
            return ChunkedTransaction.refused(e.reply);
        }
    }

    /** Octets of the current chunk, from the framer; the reply once the chunk is complete, else null. */
    Response onOctets(SMTPSession session, ChunkOctets octets) {
        ConnectionState state = DataCommand.state(session);
        ChunkedTransaction.Chunk chunk = state.chunk;
        if (chunk.discard == null) {
            state.chunks.octets(octets.bytes());
        }
        return octets.end() ? endOfChunk(session, state, chunk) : null;
    }

    private Response endOfChunk(SMTPSession session, ConnectionState state, ChunkedTransaction.Chunk chunk) {
        state.chunk = null;
        if (chunk.discard != null) {
            return Replies.response(chunk.discard);
        }
        ChunkedTransaction tx = state.chunks;
        SmtpReply reply = tx.endChunk(chunk, reception.clock().instant());
        if (tx.repeated()) {
            state.nextErrorUncounted = true; // one refused message counts once towards smtp.max-errors
        } else if (!chunk.last && !reply.isPositive() && tx.spool() != null) {
            LOG.info("{}: reject: BDAT from [{}]: {}", tx.spool().message().id(), Reception.clientAddress(session), reply);
        }
        if (chunk.last) {
            state.chunks = null;
            if (tx.spool() == null) {
                session.resetState();
            } else {
                reply = reception.complete(session, tx.spool(), reply, "BDAT");
            }
        }
        return Replies.response(reply);
    }
}
