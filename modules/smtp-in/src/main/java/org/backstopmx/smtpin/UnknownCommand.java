package org.backstopmx.smtpin;

import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.UnknownCmdHandler;

/**
 * Any command no other handler takes. James's own answer quotes the command back, control characters and all, so a
 * command word holding a bare CR put a bare CR inside our reply line (RFC 5321 §2.3.8 allows CR only before LF);
 * this answer quotes nothing, as Postfix's does not.
 */
final class UnknownCommand extends UnknownCmdHandler {
    UnknownCommand(MetricFactory metrics) {
        super(metrics);
    }

    @Override
    protected Response doCoreCmd(SMTPSession session, String command, String parameters) {
        return Replies.response(Replies.COMMAND_UNRECOGNIZED);
    }
}
