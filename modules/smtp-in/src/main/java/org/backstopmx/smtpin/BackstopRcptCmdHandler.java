package org.backstopmx.smtpin;

import java.util.Set;
import java.util.function.Supplier;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.BaseRequest;
import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.RcptCmdHandler;

/**
 * James's RCPT handler with RFC 5321 §4.1.1.11's {@code 555 5.5.4} for a parameter we do not support
 * ({@link CommandParameters}), checked after James's sequence and address checks; James answers those with 504
 * without an enhanced status code. {@code RCPT TO:<Postmaster>} is first rewritten to the postmaster address
 * ({@link Postmaster}); a recipient with UTF-8 in it goes through {@link Smtputf8}.
 */
final class BackstopRcptCmdHandler extends RcptCmdHandler {
    private final Set<String> supported;
    private final Supplier<String> postmaster;

    /**
     * @param supported  the RCPT parameter keywords the recipient hook handles, upper case
     * @param postmaster the address {@code <Postmaster>} goes to now (it follows domain reloads), or null
     */
    BackstopRcptCmdHandler(MetricFactory metricFactory, Set<String> supported, Supplier<String> postmaster) {
        super(metricFactory);
        this.supported = Set.copyOf(supported);
        this.postmaster = postmaster;
    }

    @Override
    public Response onCommand(SMTPSession session, Request request) {
        String argument = request.getArgument();
        String rewritten = Smtputf8.beforeParsing(session, Postmaster.rewrite(argument, postmaster.get()));
        Response response = super.onCommand(session, rewritten == argument ? request
                : new BaseRequest(request.getCommand(), rewritten));
        Smtputf8.afterCommand(session, response, null);
        return response;
    }

    @Override
    protected Response doFilterChecks(SMTPSession session, String command, String parameters) {
        if (DataCommand.state(session).chunks != null) {
            // the message is already being received: its envelope was fixed by the first BDAT
            return Replies.response(Replies.RCPT_AFTER_BDAT);
        }
        Response checked = super.doFilterChecks(session, command, parameters);
        if (checked != null && !"504".equals(checked.getRetCode())) {
            return checked;
        }
        Response utf8 = Smtputf8.refusal(session, null);
        if (utf8 != null) {
            return utf8;
        }
        return CommandParameters.refusal(parameters, supported).map(Replies::response).orElse(checked);
    }
}
