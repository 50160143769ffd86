package org.backstopmx.forwarder.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * What an authenticated STARTTLS trusts: the CAs for {@link TlsPolicy#VERIFY}, the pins for
 * {@link TlsPolicy#FINGERPRINT} and one host's TLSA records for {@link TlsPolicy#DANE}. Immutable; the SSL contexts
 * are made once.
 */
public final class TlsTrust {
    /** The JDK's default trust store and no pins. */
    public static final TlsTrust DEFAULT = new TlsTrust(null, List.of(), List.of());

    private final KeyStore cas;
    private final List<String> pins;
    private final List<TlsaRecord> tlsa;
    private volatile SSLContext verifying;

    private TlsTrust(KeyStore cas, List<String> pins, List<TlsaRecord> tlsa) {
        this.cas = cas;
        this.pins = pins.stream().map(TlsPins::normalize).toList();
        this.tlsa = List.copyOf(tlsa);
    }

    /** Chains must end at one of the CA certificates in this PEM file ({@code delivery.tls-ca-file}). */
    public static TlsTrust caFile(Path pem) throws IOException {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca" + i++, c);
            }
            if (i == 0) {
                throw new IOException(pem + ": no certificate");
            }
            return new TlsTrust(ks, List.of(), List.of());
        } catch (GeneralSecurityException e) {
            throw new IOException(pem + ": " + e.getMessage(), e);
        }
    }

    /** The same CAs, with these pins (SHA-256 of the SPKI, hex with or without colons). */
    public TlsTrust withPins(List<String> newPins) {
        return new TlsTrust(cas, newPins, tlsa);
    }

    /** The same CAs and pins, with the TLSA records (validated by DNSSEC) of the host about to be contacted. */
    public TlsTrust withTlsa(List<TlsaRecord> records) {
        return new TlsTrust(cas, pins, records);
    }

    public List<String> pins() {
        return pins;
    }

    /** The {@link TlsPolicy#VERIFY} context: its CAs, for other verified connections (the MTA-STS policy fetch). */
    public SSLContext verifying() {
        return context(TlsPolicy.VERIFY, null);
    }

    public List<TlsaRecord> tlsa() {
        return tlsa;
    }

    /**
     * The context for a policy and the host name connected to; {@code null} for those that do not authenticate
     * (the caller trusts all).
     */
    SSLContext context(TlsPolicy policy, String hostName) {
        if (policy == TlsPolicy.DANE) {
            return DaneTrust.context(tlsa, hostName);
        }
        try {
            if (policy == TlsPolicy.FINGERPRINT) {
                return init(new TrustManager[] {new TlsPins(pins)});
            }
            if (policy == TlsPolicy.VERIFY) {
                SSLContext c = verifying;
                if (c == null) {
                    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                    tmf.init(cas); // null: the JDK's cacerts
                    c = init(tmf.getTrustManagers());
                    verifying = c;
                }
                return c;
            }
            return null;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JVM", e);
        }
    }

    private static SSLContext init(TrustManager[] tms) throws GeneralSecurityException {
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, tms, new SecureRandom());
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TlsTrust t && Objects.equals(cas, t.cas) && pins.equals(t.pins) && tlsa.equals(t.tlsa);
    }

    @Override
    public int hashCode() {
        return Objects.hash(cas, pins, tlsa);
    }
}
