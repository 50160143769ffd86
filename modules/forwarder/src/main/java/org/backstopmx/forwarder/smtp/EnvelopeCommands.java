package org.backstopmx.forwarder.smtp;

import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailExtension;

/**
 * The MAIL and RCPT command lines for a relayed message, with only the parameters the server advertised. The DSN
 * parameters are passed on as they were received (already xtext, RFC 3461 §4), so that the primary can honour the
 * original sender's NOTIFY/RET and report the ORCPT/ENVID it gave.
 * {@code SMTPUTF8} (RFC 6531) is sent when the message needs it; {@link RelayClient} never sends such a message to
 * a server that does not offer it.
 */
final class EnvelopeCommands {
    private EnvelopeCommands() {
    }

    /** {@code MAIL FROM:<sender>} with SIZE (RFC 1870), BODY=8BITMIME (RFC 6152), SMTPUTF8, RET and ENVID (RFC 3461). */
    static String mail(RelayMessage m, EhloCapabilities caps) {
        StringBuilder b = new StringBuilder("MAIL FROM:<").append(m.sender()).append('>');
        if (caps.size()) {
            b.append(" SIZE=").append(m.size());
        }
        if (caps.eightBitMime()) {
            // right for any 7-bit or 8-bit message; 8-bit content never goes to a server without 8BITMIME
            b.append(" BODY=8BITMIME");
        }
        if (caps.smtpUtf8() && m.extensions().contains(MailExtension.SMTPUTF8)) {
            b.append(" SMTPUTF8");
        }
        if (caps.dsn()) {
            if (m.ret() != null) {
                b.append(" RET=").append(m.ret().name());
            }
            if (m.envId() != null) {
                b.append(" ENVID=").append(m.envId());
            }
        }
        return b.toString();
    }

    /** {@code RCPT TO:<address>} with NOTIFY and ORCPT when DSN is offered (RFC 3461 §4.1, §4.2). */
    static String rcpt(EnvelopeRecipient r, EhloCapabilities caps) {
        StringBuilder b = new StringBuilder("RCPT TO:<").append(r.address()).append('>');
        if (caps.dsn()) {
            if (r.dsnNotify() != null) {
                b.append(" NOTIFY=").append(r.dsnNotify());
            }
            if (r.orcpt() != null) {
                b.append(" ORCPT=").append(r.orcpt());
            }
        }
        return b.toString();
    }
}
