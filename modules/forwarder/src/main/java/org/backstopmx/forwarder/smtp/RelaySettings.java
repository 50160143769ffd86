package org.backstopmx.forwarder.smtp;

import java.util.Objects;

/**
 * How the relay client behaves.
 *
 * @param heloName  the name we give in EHLO/HELO (our own host name, RFC 5321 §4.1.1.1)
 * @param timeouts  per-stage timeouts
 * @param tlsPolicy when to use STARTTLS
 * @param tlsTrust  the CAs and pins for {@link TlsPolicy#VERIFY} and {@link TlsPolicy#FINGERPRINT}
 */
public record RelaySettings(String heloName, SmtpTimeouts timeouts, TlsPolicy tlsPolicy, TlsTrust tlsTrust) {
    public RelaySettings(String heloName, SmtpTimeouts timeouts, TlsPolicy tlsPolicy) {
        this(heloName, timeouts, tlsPolicy, TlsTrust.DEFAULT);
    }

    public RelaySettings {
        Objects.requireNonNull(tlsTrust, "tlsTrust");
        Objects.requireNonNull(heloName, "heloName");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(tlsPolicy, "tlsPolicy");
        if (heloName.isBlank()) {
            throw new IllegalArgumentException("heloName is empty");
        }
    }

    /** The same with another STARTTLS level (the one an MTA-STS policy gives a host). */
    public RelaySettings withTlsPolicy(TlsPolicy level) {
        return new RelaySettings(heloName, timeouts, level, tlsTrust);
    }

    /** RFC 5321 timeouts and opportunistic TLS. */
    public static RelaySettings defaults(String heloName) {
        return new RelaySettings(heloName, SmtpTimeouts.RFC_5321, TlsPolicy.OPPORTUNISTIC);
    }
}
