package org.backstopmx.forwarder.smtp;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One TLSA record (RFC 6698 §2.1) as DANE for SMTP uses it (RFC 7672 §3.1).
 *
 * @param usage        0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE; only 2 and 3 are usable for SMTP (RFC 7672 §3.1.3)
 * @param selector     0 the whole certificate, 1 its SubjectPublicKeyInfo
 * @param matchingType 0 the data itself, 1 its SHA-256, 2 its SHA-512
 * @param data         the certificate association data
 */
public record TlsaRecord(int usage, int selector, int matchingType, byte[] data) {
    /** DANE-TA: a trust anchor that the server's chain must lead to, with the name checked. */
    public static final int DANE_TA = 2;
    /** DANE-EE: the server's own certificate or key; nothing else is checked. */
    public static final int DANE_EE = 3;

    public TlsaRecord {
        data = data.clone();
    }

    /**
     * Whether this record can authenticate an SMTP server: DANE-TA or DANE-EE, a known selector and matching type.
     * RFC 7672 §3.1.3: PKIX-TA and PKIX-EE records are unusable for SMTP, as are unknown parameters.
     */
    public boolean usable() {
        return (usage == DANE_TA || usage == DANE_EE) && (selector == 0 || selector == 1)
                && matchingType >= 0 && matchingType <= 2;
    }

    /** Whether {@code cert} is the one this record names (the usage is the caller's to judge). */
    boolean matches(X509Certificate cert) {
        byte[] selected;
        try {
            selected = selector == 0 ? cert.getEncoded() : cert.getPublicKey().getEncoded();
        } catch (CertificateEncodingException e) {
            return false;
        }
        return MessageDigest.isEqual(digest(selected), data);
    }

    private byte[] digest(byte[] selected) {
        try {
            return switch (matchingType) {
                case 0 -> selected;
                case 1 -> MessageDigest.getInstance("SHA-256").digest(selected);
                case 2 -> MessageDigest.getInstance("SHA-512").digest(selected);
                default -> new byte[0];
            };
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-2 in this JVM", e);
        }
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TlsaRecord t && usage == t.usage && selector == t.selector
                && matchingType == t.matchingType && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * usage + selector) + matchingType) + Arrays.hashCode(data);
    }

    /** As in a zone file: {@code 3 1 1 ab12...}. */
    @Override
    public String toString() {
        return usage + " " + selector + " " + matchingType + " " + HexFormat.of().formatHex(data);
    }
}
