package org.backstopmx.forwarder.smtp;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The {@link TlsPolicy#DANE} check (RFC 7672 §3): the server's chain against the usable TLSA records of the host we
 * connect to, which DNSSEC has vouched for.
 * <ul>
 *   <li>DANE-EE(3): the leaf certificate (selector 0) or its public key (selector 1) matches; neither the name nor
 *       the validity dates are checked (§3.1.1), since the record itself names the key;</li>
 *   <li>DANE-TA(2): a certificate the server sent above the leaf matches; the chain from the leaf must lead to it
 *       (signatures and validity dates, with that certificate as the trust anchor), and the leaf must carry the MX
 *       host name (§3.2.2, RFC 6125 rules with a wildcard only as the whole left-most label, §3.2.3).</li>
 * </ul>
 * XXX: a DANE-TA record with selector 1 for a key the server does not send (allowed by RFC 7671 §5.2.2) is not
 * matched.
 */
final class DaneTrust implements X509TrustManager {
    private final List<TlsaRecord> records;
    private final String hostName;

    /**
     * @param records  the TLSA records of {@code _port._tcp.hostName}; only the usable ones count
     * @param hostName the MX host name (or the route's host name), the reference identifier for DANE-TA
     */
    DaneTrust(List<TlsaRecord> records, String hostName) {
        this.records = records.stream().filter(TlsaRecord::usable).toList();
        this.hostName = normalize(hostName);
    }

    /** An SSL context that trusts what {@link #checkServerTrusted} accepts. */
    static SSLContext context(List<TlsaRecord> records, String hostName) {
        try {
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(null, new TrustManager[] {new DaneTrust(records, hostName)}, new SecureRandom());
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS in this JVM", e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new Mismatch("no certificate");
        }
        for (TlsaRecord r : records) {
            if (r.usage() == TlsaRecord.DANE_EE && r.matches(chain[0])) {
                return;
            }
        }
        for (TlsaRecord r : records) {
            if (r.usage() != TlsaRecord.DANE_TA) {
                continue;
            }
            for (int i = 1; i < chain.length; i++) {
                if (r.matches(chain[i])) {
                    checkChain(chain, i);
                    checkName(chain[0]);
                    return;
                }
            }
        }
        throw new Mismatch("no TLSA record of " + hostName + " matches its certificate");
    }

    /** PKIX from the leaf up to {@code chain[ta]}, that certificate taken as the trust anchor; no revocation check. */
    private static void checkChain(X509Certificate[] chain, int ta) throws CertificateException {
        try {
            PKIXParameters p = new PKIXParameters(Set.of(new TrustAnchor(chain[ta], null)));
            p.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(
                    CertificateFactory.getInstance("X.509").generateCertPath(Arrays.asList(chain).subList(0, ta)), p);
        } catch (CertPathValidatorException e) {
            if (e.getReason() == CertPathValidatorException.BasicReason.EXPIRED
                    || e.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
                throw new CertificateException("DANE-TA chain: " + e.getMessage(), e);
            }
            throw new Mismatch("the chain does not lead to the DANE-TA certificate: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new Mismatch("the chain does not lead to the DANE-TA certificate: " + e.getMessage());
        }
    }

    /** RFC 7672 §3.2.2: the subjectAltName DNS names, or the common name when there are none. */
    private void checkName(X509Certificate leaf) throws CertificateException {
        List<String> names = dnsNames(leaf);
        for (String name : names) {
            if (nameMatches(name, hostName)) {
                return;
            }
        }
        // the words the JDK uses, so that TlsFailure tells a wrong name from the other failures
        throw new CertificateException("No name matching " + hostName + " found (certificate names " + names + ")");
    }

    private static List<String> dnsNames(X509Certificate leaf) throws CertificateParsingException {
        List<String> names = new ArrayList<>();
        if (leaf.getSubjectAlternativeNames() != null) {
            for (List<?> san : leaf.getSubjectAlternativeNames()) {
                if (Integer.valueOf(2).equals(san.get(0))) { // dNSName
                    names.add(String.valueOf(san.get(1)));
                }
            }
        }
        if (names.isEmpty()) {
            for (String rdn : leaf.getSubjectX500Principal().getName().split(",")) {
                if (rdn.regionMatches(true, 0, "CN=", 0, 3)) {
                    names.add(rdn.substring(3));
                }
            }
        }
        return names;
    }

    /** A name from the certificate against the host: equal, or {@code *.rest} where the host is one label more. */
    static boolean nameMatches(String certName, String host) {
        String name = normalize(certName);
        if (name.startsWith("*.")) {
            int dot = host.indexOf('.');
            return dot > 0 && host.substring(dot + 1).equals(name.substring(2)) && name.indexOf('*', 1) < 0;
        }
        return name.equals(host);
    }

    private static String normalize(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("not a server");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }

    /** No usable TLSA record matches the server's certificates. */
    static final class Mismatch extends CertificateException {
        private static final long serialVersionUID = 1L;

        Mismatch(String message) {
            super(message);
        }
    }
}
