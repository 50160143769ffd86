package org.backstopmx.smtpin;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.backstopmx.core.config.TlsConfig;

/**
 * Builds the server's {@link SSLContext} from PEM files, as mail admins have them (Let's Encrypt, openssl): a
 * certificate chain and a private key in PKCS#8 ({@code BEGIN PRIVATE KEY}) or PKCS#1 RSA ({@code BEGIN RSA PRIVATE
 * KEY}). Errors name the configuration key.
 */
public final class TlsContexts {
    /** TLS 1.2 and 1.3 only. */
    public static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]+)-----END \\1-----");
    private static final String[] KEY_ALGORITHMS = {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"};

    private TlsContexts() {
    }

    public static SSLContext load(TlsConfig tls) {
        Certificate[] chain = readChain(tls);
        PrivateKey key = readKey(tls);
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            char[] password = new char[0];
            store.setKeyEntry("backstop", key, password, chain);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("smtp.tls: certificate and key do not form a usable pair: " + e.getMessage(), e);
        }
    }

    private static Certificate[] readChain(TlsConfig tls) {
        try (InputStream in = Files.newInputStream(tls.certificate())) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new IllegalArgumentException("smtp.tls.certificate: no certificate in " + tls.certificate());
            }
            return certs.toArray(new Certificate[0]);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("smtp.tls.certificate: cannot read " + tls.certificate() + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey readKey(TlsConfig tls) {
        String pem;
        try {
            pem = Files.readString(tls.key(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("smtp.tls.key: cannot read " + tls.key() + ": " + e.getMessage(), e);
        }
        Matcher m = PEM.matcher(pem);
        while (m.find()) {
            String type = m.group(1);
            byte[] der = Base64.getMimeDecoder().decode(m.group(2));
            switch (type) {
                case "PRIVATE KEY":
                    return pkcs8(der, tls);
                case "RSA PRIVATE KEY":
                    return pkcs8(wrapPkcs1(der), tls);
                case "ENCRYPTED PRIVATE KEY":
                    throw new IllegalArgumentException("smtp.tls.key: " + tls.key() + " is encrypted; store it without"
                            + " a passphrase (openssl pkcs8 -topk8 -nocrypt)");
                case "EC PRIVATE KEY":
                    throw new IllegalArgumentException("smtp.tls.key: " + tls.key() + " is a SEC1 EC key; convert it to"
                            + " PKCS#8 with: openssl pkcs8 -topk8 -nocrypt -in old.key -out new.key");
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("smtp.tls.key: no PEM private key in " + tls.key());
    }

    private static PrivateKey pkcs8(byte[] der, TlsConfig tls) {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String alg : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException("smtp.tls.key: unsupported private key in " + tls.key());
    }

    /** PKCS#1 RSAPrivateKey inside a PKCS#8 PrivateKeyInfo with the rsaEncryption algorithm identifier. */
    private static byte[] wrapPkcs1(byte[] pkcs1) {
        byte[] algorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01,
            0x01, 0x05, 0x00};
        byte[] version = {0x02, 0x01, 0x00};
        byte[] octet = der((byte) 0x04, pkcs1);
        byte[] body = new byte[version.length + algorithm.length + octet.length];
        System.arraycopy(version, 0, body, 0, version.length);
        System.arraycopy(algorithm, 0, body, version.length, algorithm.length);
        System.arraycopy(octet, 0, body, version.length + algorithm.length, octet.length);
        return der((byte) 0x30, body);
    }

    private static byte[] der(byte tag, byte[] content) {
        int len = content.length;
        byte[] header;
        if (len < 0x80) {
            header = new byte[] {tag, (byte) len};
        } else if (len < 0x100) {
            header = new byte[] {tag, (byte) 0x81, (byte) len};
        } else if (len < 0x10000) {
            header = new byte[] {tag, (byte) 0x82, (byte) (len >> 8), (byte) len};
        } else {
            header = new byte[] {tag, (byte) 0x83, (byte) (len >> 16), (byte) (len >> 8), (byte) len};
        }
        byte[] out = new byte[header.length + len];
        System.arraycopy(header, 0, out, 0, header.length);
        System.arraycopy(content, 0, out, header.length, len);
        return out;
    }
}
