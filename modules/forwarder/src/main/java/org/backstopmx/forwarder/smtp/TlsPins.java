package org.backstopmx.forwarder.smtp;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.X509TrustManager;

/**
 * The {@link TlsPolicy#FINGERPRINT} check (Postfix's {@code fingerprint} level): the leaf certificate's
 * SubjectPublicKeyInfo, hashed with SHA-256, must equal one of the pins. Neither the chain nor the name is checked:
 * the pin is the trust. Pinning the key rather than the certificate lets a renewed certificate with the same key
 * deliver; several pins let a new key be announced before it is used.
 */
final class TlsPins implements X509TrustManager {
    private final List<String> pins;

    /** @param pins SHA-256 of the SPKI in hex, with or without colons, any case */
    TlsPins(List<String> pins) {
        this.pins = pins.stream().map(TlsPins::normalize).toList();
    }

    /** The pin in the form compared: lower-case hex without colons; throws on anything that is not 64 hex digits. */
    static String normalize(String pin) {
        String hex = pin.replace(":", "").trim().toLowerCase(Locale.ROOT);
        if (!hex.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a SHA-256 in hex: " + pin);
        }
        return hex;
    }

    /** SHA-256 of the certificate's SubjectPublicKeyInfo (the DER of its public key), lower-case hex. */
    static String of(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new Mismatch("no certificate");
        }
        String actual = of(chain[0]);
        if (!pins.contains(actual)) {
            throw new Mismatch("public key sha256 " + actual + " matches no pin");
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("not a server");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }

    /** The leaf's key is not pinned. */
    static final class Mismatch extends CertificateException {
        private static final long serialVersionUID = 1L;

        Mismatch(String message) {
            super(message);
        }
    }
}
