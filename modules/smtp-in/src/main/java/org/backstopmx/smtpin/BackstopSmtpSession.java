package org.backstopmx.smtpin;

import org.apache.james.protocols.api.ProtocolTransport;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPConfiguration;
import org.apache.james.protocols.smtp.SMTPSessionImpl;

/**
 * James's SMTP session with replies that carry enhanced status codes (RFC 2034) like every other reply of ours, and
 * whose reset (RSET, HELO, EHLO, STARTTLS, the end of a message) also discards a BDAT message not finished by LAST.
 */
final class BackstopSmtpSession extends SMTPSessionImpl {
    BackstopSmtpSession(ProtocolTransport transport, SMTPConfiguration config) {
        super(transport, config);
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
