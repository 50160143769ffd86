package org.backstopmx.forwarder.smtp;

import java.util.Objects;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;

/**
 * Why a connection became unusable, as the client saw it. Facts only: what they mean for the recipients is
 * {@link org.backstopmx.forwarder.FailurePolicy}'s.
 *
 * @param reply  the reply that ended it (a refused greeting, a 421, a refused EHLO, HELO, RSET or STARTTLS), or null
 *               when there was none
 * @param stage  where in the dialogue it happened
 * @param detail one line on what happened: the reply, or the exception in words (connection refused, read timed out,
 *               write timed out, connection closed by the server, TLS handshake failed, a local read error)
 * @param local  whether it happened on our side: the stored message could not be read while it was being sent
 */
public record SessionFailure(SmtpReply reply, SmtpStage stage, String detail, boolean local) {
    public SessionFailure {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(detail, "detail");
    }

    /** A failure of the connection or of the server: not {@link #local}. */
    public SessionFailure(SmtpReply reply, SmtpStage stage, String detail) {
        this(reply, stage, detail, false);
    }
}
