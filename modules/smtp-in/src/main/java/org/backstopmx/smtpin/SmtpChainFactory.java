package org.backstopmx.smtpin;

import java.time.Clock;
import java.util.List;
import java.util.Set;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.handler.CommandDispatcher;
import org.apache.james.protocols.api.handler.ProtocolHandler;
import org.apache.james.protocols.api.handler.WiringException;
import org.apache.james.protocols.smtp.SMTPProtocolHandlerChain;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.HeloCmdHandler;
import org.apache.james.protocols.smtp.core.NoopCmdHandler;
import org.apache.james.protocols.smtp.core.QuitCmdHandler;
import org.apache.james.protocols.smtp.core.RsetCmdHandler;
import org.apache.james.protocols.smtp.core.WelcomeMessageHandler;
import org.apache.james.protocols.smtp.core.esmtp.StartTlsCmdHandler;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.config.SmtpConfig;

/**
 * Assembles the James handler chain by hand. James's default chain is not used because it contains
 * {@code PostmasterAbuseRcptHook}, which accepts postmaster@ and abuse@ at ANY domain before any other RCPT hook runs
 * (an open relay), its size extension (int overflow, reply without enhanced code), its Received header filter
 * (reverse DNS on the event loop) and its in-heap DATA handler. The EHLO keywords follow the order of the handlers
 * that advertise them.
 *
 * <p>{@code rates} is null when {@code screen.rate.*} limits nothing.
 */
final class SmtpChainFactory {
    private SmtpChainFactory() {
    }

    static SMTPProtocolHandlerChain create(SmtpConfig config, String hostname, RecipientHook recipients,
            MailQueue queue, EtrnService etrn, Clock clock, SmtpMetrics smtpMetrics, PrimaryCapabilities primaries,
            ClientRates rates, SpfHook spf) throws WiringException {
        MetricFactory metrics = new QuietMetrics();
        SMTPProtocolHandlerChain chain = new SMTPProtocolHandlerChain(metrics, false);
        MailParameters mailParameters = new MailParameters(recipients.sizes(), queue);
        Reception reception = new Reception(queue, clock, config, hostname, smtpMetrics, primaries, spf != null);
        List<ProtocolHandler> handlers = new java.util.ArrayList<>(List.of(
                new CommandDispatcher<SMTPSession>(),
                new BackstopEhloCmdHandler(metrics),
                mailParameters,
                new BdatCommand(reception),
                new EtrnCommand(etrn),
                new StartTlsCmdHandler(),
                new HeloCmdHandler(metrics),
                new BackstopMailCmdHandler(metrics, Set.of(mailParameters.getMailParamNames()), rates),
                new BackstopRcptCmdHandler(metrics, recipients.supportedParameters(), recipients::postmaster),
                recipients,
                new DataCommand(reception),
                new RsetCmdHandler(),
                new NoopCmdHandler(),
                new QuitCmdHandler(metrics),
                new SimpleCommands(),
                new UnknownCommand(metrics),
                new WelcomeMessageHandler()));
        if (spf != null) {
            handlers.add(handlers.indexOf(recipients), spf); // MAIL's only hook
        }
        chain.addAll(handlers);
        chain.wireExtensibleHandlers();
        return chain;
    }
}
