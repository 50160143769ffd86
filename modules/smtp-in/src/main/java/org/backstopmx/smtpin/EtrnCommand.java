package org.backstopmx.smtpin;

import java.net.InetAddress;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.CommandHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.esmtp.EhloExtension;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.SmtpReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ETRN (RFC 1985): a primary that is back asks us to start delivering the mail we hold for its domain now. This
 * side checks the session and the argument and turns the {@link EtrnService}'s answer into a reply, worded like
 * Postfix's with enhanced status codes (RFC 3463).
 *
 * <ul>
 *   <li>Only after HELO or EHLO, and not inside a mail transaction (after MAIL, until the end of DATA or RSET):
 *       {@code 503 5.5.1}.</li>
 *   <li>{@code ETRN example.org} and {@code ETRN @example.org}. In RFC 1985 the {@code @} form asks for the domain
 *       and its subdomains; we hold mail per served domain only, so it is treated as the same domain.</li>
 *   <li>{@code ETRN #queue} (a named queue, RFC 1985 §5) is not supported: {@code 458 4.3.3}.</li>
 *   <li>Anything that is not a domain name (letters, digits and hyphens in dot-separated labels, at most 253
 *       characters without the optional trailing dot, not an IP address): {@code 501 5.5.4}. The service gets the
 *       name in lower case without the trailing dot.</li>
 * </ul>
 *
 * The service may block (queue, DNS): the command runs on the worker group, never on the I/O loop
 * ({@link SmtpServer}), so it is called synchronously. If it throws, the client gets {@code 458 4.3.0} and the
 * session goes on; the failure is logged here.
 */
final class EtrnCommand implements CommandHandler<SMTPSession>, EhloExtension {
    private static final Logger LOG = LoggerFactory.getLogger(EtrnCommand.class);
    private static final int MAX_DOMAIN_LENGTH = 253;
    private static final int MAX_LABEL_LENGTH = 63;

    private final EtrnService service;

    EtrnCommand(EtrnService service) {
        this.service = Objects.requireNonNull(service, "service");
    }

    @Override
    public Collection<String> getImplCommands() {
        return List.of("ETRN");
    }

    @Override
    public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
        return List.of("ETRN");
    }

    @Override
    public Response onCommand(SMTPSession session, Request request) {
        if (session.getAttachment(SMTPSession.CURRENT_HELO_MODE, State.Connection).isEmpty()) {
            return Replies.response(Replies.ETRN_NO_HELO);
        }
        if (session.getAttachment(SMTPSession.SENDER, State.Transaction).isPresent()) {
            return Replies.response(Replies.ETRN_IN_TRANSACTION);
        }
        String argument = request.getArgument() == null ? "" : request.getArgument().strip();
        if (argument.startsWith("#") && argument.length() > 1) {
            return Replies.response(Replies.ETRN_QUEUE_NOT_SUPPORTED);
        }
        String domain = domain(argument.startsWith("@") ? argument.substring(1) : argument);
        if (domain == null) {
            return Replies.response(Replies.ETRN_SYNTAX);
        }
        InetAddress client = session.getRemoteAddress().getAddress();
        SmtpReply reply = reply(domain, client);
        LOG.info("ETRN {} from [{}]: {}", domain, client.getHostAddress(), reply);
        return Replies.response(reply);
    }

    private SmtpReply reply(String domain, InetAddress client) {
        EtrnService.Result result;
        try {
            result = service.etrn(domain, client);
        } catch (RuntimeException e) {
            LOG.warn("ETRN {} from [{}] failed", domain, client.getHostAddress(), e);
            return format(Replies.ETRN_UNAVAILABLE, domain);
        }
        if (result == null) {
            LOG.warn("ETRN {} from [{}]: no result from the delivery side", domain, client.getHostAddress());
            return format(Replies.ETRN_UNAVAILABLE, domain);
        }
        switch (result) {
            case STARTED:
                return format(Replies.ETRN_STARTED, domain);
            case NOTHING_WAITING:
                return format(Replies.ETRN_NOTHING_WAITING, domain);
            case UNKNOWN_DOMAIN:
                return format(Replies.ETRN_UNKNOWN_DOMAIN, domain);
            case NOT_ALLOWED:
                return format(Replies.ETRN_NOT_ALLOWED, domain);
            case UNAVAILABLE:
            default:
                return format(Replies.ETRN_UNAVAILABLE, domain);
        }
    }

    private static SmtpReply format(SmtpReply reply, String domain) {
        return reply.withText(String.format(reply.text(), domain));
    }

    /**
     * The argument as a domain name (lower case, trailing dot removed), or null when it is not one: dot-separated
     * labels of 1 to 63 letters, digits and hyphens, neither starting nor ending with a hyphen, at most 253
     * characters in all, and a last label that is not all digits (so an IP address is not taken for a name).
     */
    static String domain(String argument) {
        String name = argument.endsWith(".") ? argument.substring(0, argument.length() - 1) : argument;
        if (name.isEmpty() || name.length() > MAX_DOMAIN_LENGTH) {
            return null;
        }
        name = name.toLowerCase(Locale.ROOT);
        int start = 0;
        boolean lastLabelNumeric = true;
        while (true) {
            int dot = name.indexOf('.', start);
            int end = dot < 0 ? name.length() : dot;
            int length = end - start;
            if (length == 0 || length > MAX_LABEL_LENGTH || name.charAt(start) == '-' || name.charAt(end - 1) == '-') {
                return null;
            }
            lastLabelNumeric = true;
            for (int i = start; i < end; i++) {
                char c = name.charAt(i);
                boolean digit = c >= '0' && c <= '9';
                if (!digit && !(c >= 'a' && c <= 'z') && c != '-') {
                    return null;
                }
                lastLabelNumeric &= digit;
            }
            if (dot < 0) {
                break;
            }
            start = dot + 1;
        }
        return lastLabelNumeric ? null : name;
    }
}
