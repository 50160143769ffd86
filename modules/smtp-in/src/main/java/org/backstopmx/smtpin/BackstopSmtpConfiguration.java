package org.backstopmx.smtpin;

import org.apache.james.protocols.smtp.SMTPConfigurationImpl;

/**
 * What James asks of the configuration. The size limit is enforced by {@link MailParameters} and
 * {@link MessageSpool}, not by James (whose check parses SIZE as an int and answers without an enhanced code),
 * so James is told "no limit".
 */
final class BackstopSmtpConfiguration extends SMTPConfigurationImpl {
    static final String SOFTWARE = "Backstop MX";
    private final String hostname;

    BackstopSmtpConfiguration(String hostname) {
        this.hostname = hostname;
        setHeloEhloEnforcement(true);
        setUseAddressBracketsEnforcement(true);
    }

    @Override
    public String getHelloName() {
        return hostname;
    }

    @Override
    public String getGreeting() {
        return hostname + " ESMTP " + SOFTWARE;
    }

    @Override
    public String getSoftwareName() {
        return SOFTWARE;
    }

    @Override
    public long getMaxMessageSize() {
        return 0;
    }

    @Override
    public boolean isRelayingAllowed(String remoteIP) {
        return false;
    }
}
