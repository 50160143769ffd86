package org.backstopmx.smtpin;

import java.util.Collection;
import java.util.Set;
import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.CommandHandler;
import org.apache.james.protocols.smtp.SMTPSession;

/**
 * VRFY, EXPN and HELP. VRFY answers 252 without looking anything up (RFC 5321 §3.5.3: disclosing valid addresses
 * helps harvesters); EXPN is refused; HELP points at the RFC.
 */
final class SimpleCommands implements CommandHandler<SMTPSession> {
    @Override
    public Collection<String> getImplCommands() {
        return Set.of("VRFY", "EXPN", "HELP");
    }

    @Override
    public Response onCommand(SMTPSession session, Request request) {
        switch (request.getCommand()) {
            case "VRFY":
                String arg = request.getArgument();
                return Replies.response(arg == null || arg.isBlank() ? Replies.VRFY_SYNTAX : Replies.VRFY);
            case "EXPN":
                return Replies.response(Replies.EXPN_REFUSED);
            default:
                return Replies.response(Replies.HELP);
        }
    }
}
