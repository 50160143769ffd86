package org.backstopmx.forwarder.smtp;

import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.forwarder.FailurePolicy;

/**
 * Ends a relay session from inside a dialogue step: the connection is no longer usable, for the reason given.
 * Internal to the client; never escapes {@link RelayClient}.
 */
final class SessionEnded extends Exception {
    private static final long serialVersionUID = 1L;

    final transient SessionFailure failure;
    /** Whether the server is still in a state to be told QUIT (not after a 421, a lost stream or a bad handshake). */
    final boolean quit;

    SessionEnded(SessionFailure failure, boolean quit) {
        super(failure.detail(), null, false, false);
        this.failure = failure;
        this.quit = quit;
    }

    /** Ended by a reply: QUIT unless the reply was 421 (the server is closing). */
    static SessionEnded byReply(SmtpReply reply, SmtpStage stage, String what) {
        return new SessionEnded(new SessionFailure(reply, stage, what + ": " + reply), !FailurePolicy.endsSession(reply));
    }

    /** Ended on our side: the stored message could not be read at {@code stage}; no QUIT, the message is unfinished. */
    static SessionEnded localReadError(SmtpStage stage, String detail) {
        return new SessionEnded(new SessionFailure(null, stage, detail, true), false);
    }

    /** Ended without a usable reply. */
    static SessionEnded without(SmtpStage stage, String detail, boolean quit) {
        return new SessionEnded(new SessionFailure(null, stage, detail), quit);
    }
}
