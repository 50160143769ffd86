package org.backstopmx.smtpin;

import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.MailCmdHandler;

/**
 * James's MAIL handler, made to forget the parameters of a previous MAIL that failed: James runs the parameter hooks
 * before it parses the address, so a refused MAIL could otherwise leave its RET/ENVID behind for the next one.
 */
final class BackstopMailCmdHandler extends MailCmdHandler {
    BackstopMailCmdHandler(MetricFactory metricFactory) {
        super(metricFactory);
    }

    @Override
    public Response onCommand(SMTPSession session, Request request) {
        if (session.getAttachment(SMTPSession.SENDER, State.Transaction).isEmpty()) {
            session.removeAttachment(SessionKeys.MAIL_PARAMETERS, State.Transaction);
        }
        return super.onCommand(session, request);
    }
}
