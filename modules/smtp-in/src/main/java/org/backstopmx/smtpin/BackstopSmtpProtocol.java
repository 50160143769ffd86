package org.backstopmx.smtpin;

import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolTransport;
import org.apache.james.protocols.api.handler.ProtocolHandlerChain;
import org.apache.james.protocols.smtp.SMTPConfiguration;
import org.apache.james.protocols.smtp.SMTPProtocol;

/** James's SMTP protocol, creating {@link BackstopSmtpSession}s. */
final class BackstopSmtpProtocol extends SMTPProtocol {
    BackstopSmtpProtocol(ProtocolHandlerChain chain, SMTPConfiguration config) {
        super(chain, config);
    }

    @Override
    public ProtocolSession newSession(ProtocolTransport transport) {
        return new BackstopSmtpSession(transport, (SMTPConfiguration) getConfiguration());
    }
}
