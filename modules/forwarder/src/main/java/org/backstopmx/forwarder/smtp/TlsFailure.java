package org.backstopmx.forwarder.smtp;

import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;

/**
 * Why an authenticated STARTTLS ({@link TlsPolicy#VERIFY}, {@link TlsPolicy#FINGERPRINT}, {@link TlsPolicy#MTA_STS},
 * {@link TlsPolicy#DANE}) did not happen: a closed set, used in the deferral text, the delivery log line and the {@code result} label of the TLS metric.
 */
public enum TlsFailure {
    /** The server did not offer STARTTLS, or refused it. */
    STARTTLS_NOT_OFFERED,
    /** The handshake failed for a reason other than the certificate (protocol, cipher, connection lost). */
    HANDSHAKE_FAILED,
    /** The chain does not lead to a trusted CA (self-signed, another CA). */
    UNTRUSTED,
    /** The certificate is not for the host name we connected to (RFC 6125). */
    NAME_MISMATCH,
    /** A certificate in the chain is expired or not yet valid. */
    EXPIRED,
    /** The leaf's public key matches none of the configured pins. */
    PIN_MISMATCH,
    /** An MTA-STS policy in {@code enforce} (or {@code testing}) mode names none of the MX host names (RFC 8461 §4.1). */
    STS_MX_MISMATCH,
    /**
     * The domain publishes an MTA-STS TXT record but its policy could not be fetched and none is cached; RFC 8461
     * §3.3 has the mail go as though the domain had no policy, so this is counted, never a deferral.
     */
    STS_POLICY_UNAVAILABLE,
    /** DANE: the MX or TLSA answer failed DNSSEC validation (bogus, RFC 4033 §5); no connection is made. */
    DANE_BOGUS,
    /**
     * DANE: the MX or TLSA lookup did not complete (SERVFAIL, timeout), so whether the host has TLSA records is not
     * known; RFC 7672 §2.1.1 treats the host as unreachable. No connection is made.
     */
    DANE_LOOKUP_FAILED,
    /** DANE: the host has usable TLSA records and none matches its certificates (RFC 7672 §3). */
    DANE_MISMATCH;

    /** {@code starttls-not-offered}, {@code pin-mismatch}, ... */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** What a failed handshake says about the certificate, from the exception's causes. */
    static TlsFailure classify(Throwable handshake) {
        for (Throwable t = handshake; t != null; t = t.getCause()) {
            if (t instanceof TlsPins.Mismatch) {
                return PIN_MISMATCH;
            }
            if (t instanceof DaneTrust.Mismatch) {
                return DANE_MISMATCH;
            }
            if (t instanceof CertificateExpiredException || t instanceof CertificateNotYetValidException) {
                return EXPIRED;
            }
            if (t instanceof CertPathValidatorException v
                    && v.getReason() == CertPathValidatorException.BasicReason.EXPIRED) {
                return EXPIRED;
            }
            String m = String.valueOf(t.getMessage());
            // the JDK's HostnameChecker words (sun.security.util.HostnameChecker)
            if (m.contains("No subject alternative") || m.contains("No name matching")) {
                return NAME_MISMATCH;
            }
            if (m.contains("validity check failed") || m.contains("NotAfter") || m.contains("expired")) {
                return EXPIRED;
            }
            if (m.contains("PKIX path") || m.contains("unable to find valid certification path")) {
                return UNTRUSTED;
            }
        }
        return HANDSHAKE_FAILED;
    }
}
