package org.backstopmx.smtpin;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.apache.james.protocols.api.ProtocolTransport;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPConfiguration;
import org.apache.james.protocols.smtp.SMTPSessionImpl;

/**
 * James's SMTP session with replies that carry enhanced status codes (RFC 2034) like every other reply of ours,
 * command lines decoded as UTF-8 (RFC 6531 §3.3) rather than US-ASCII, so that an address with UTF-8 in it reaches
 * {@link Smtputf8} intact (malformed UTF-8 becomes U+FFFD, which no address may hold), and a reset (RSET, HELO,
 * EHLO, STARTTLS, the end of a message) that also discards a BDAT message not finished by LAST.
 */
final class BackstopSmtpSession extends SMTPSessionImpl {
    BackstopSmtpSession(ProtocolTransport transport, SMTPConfiguration config) {
        super(transport, config);
    }

    @Override
    public Charset getCharset() {
        return StandardCharsets.UTF_8;
    }

    @Override
    public void resetState() {
        super.resetState();
        ConnectionState state = ConnectionState.of(((BackstopTransport) getProtocolTransport()).channel());
        if (state != null && state.chunks != null) {
            state.abandonMessage();
        }
    }

    @Override
    public Response newLineTooLongResponse() {
        return Replies.response(Replies.COMMAND_LINE_TOO_LONG);
    }

    @Override
    public Response newFatalErrorResponse() {
        return Replies.response(Replies.COMMAND_FAILED);
    }

    @Override
    public Response newCommandNotFoundErrorResponse() {
        return Replies.response(Replies.COMMAND_UNRECOGNIZED);
    }
}
