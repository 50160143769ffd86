package org.backstopmx.smtpin;

import java.util.Set;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.BaseRequest;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.MailCmdHandler;
import org.backstopmx.core.SmtpReply;

/**
 * James's MAIL handler, made to forget the parameters of a previous MAIL that failed: James runs the parameter hooks
 * before it parses the address, so a refused MAIL could otherwise leave its RET/ENVID behind for the next one. It
 * also refuses parameters we do not support with {@code 555 5.5.4} ({@link CommandParameters}), after James's own
 * sequence and syntax checks, where James would ignore them. A sender with UTF-8 in it goes through {@link Smtputf8}.
 * A MAIL that passes all of these is counted against the message limits of {@code screen.rate.*} ({@link ClientRates})
 * and refused {@code 452 4.7.1} over one.
 */
final class BackstopMailCmdHandler extends MailCmdHandler {
    private final Set<String> supported;
    private final ClientRates rates;

    /**
     * @param supported the MAIL parameter keywords some hook handles, upper case
     * @param rates     the rate limits, or null when none is set
     */
    BackstopMailCmdHandler(MetricFactory metricFactory, Set<String> supported, ClientRates rates) {
        super(metricFactory);
        this.supported = Set.copyOf(supported);
        this.rates = rates;
    }

    @Override
    public Response onCommand(SMTPSession session, Request request) {
        if (session.getAttachment(SMTPSession.SENDER, State.Transaction).isEmpty()) {
            session.removeAttachment(SessionKeys.MAIL_PARAMETERS, State.Transaction);
            session.removeAttachment(SessionKeys.UTF8_SENDER, State.Transaction);
        }
        String argument = request.getArgument();
        String parsed = Smtputf8.beforeParsing(session, argument);
        Response response = super.onCommand(session, parsed == argument ? request
                : new BaseRequest(request.getCommand(), parsed));
        Smtputf8.afterCommand(session, response, argument == null ? "" : argument);
        return response;
    }

    @Override
    protected Response doFilterChecks(SMTPSession session, String command, String parameters) {
        Response checked = super.doFilterChecks(session, command, parameters);
        if (checked != null) {
            return checked;
        }
        // James's onCommand forgets the sender it just stored when the reply is not 250
        Response utf8 = Smtputf8.refusal(session, parameters == null ? "" : parameters);
        if (utf8 != null) {
            return utf8;
        }
        Response unsupported = CommandParameters.refusal(parameters, supported).map(Replies::response).orElse(null);
        if (unsupported != null || rates == null) {
            return unsupported;
        }
        SmtpReply overRate = rates.message(session.getRemoteAddress().getAddress());
        return overRate == null ? null : Replies.response(overRate);
    }
}
