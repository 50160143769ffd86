package org.backstopmx.smtpin;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The {@code Received:} trace header we prepend (RFC 5321 §4.4, protocol names from RFC 3848 and RFC 6531): the client's HELO
 * name and address (no reverse DNS: it would block and proves nothing), our hostname, SMTP/ESMTP/ESMTPS, the queue
 * id, the recipient when there is exactly one, and the date.
 *
 * <pre>
 * Received: from client.example ([192.0.2.1])
 * 	by backstop.example.org (Backstop MX) with ESMTPS id 0123456789ABCDEF
 * 	(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)
 * 	for &lt;alice@example.org&gt;; Sat, 28 Nov 2026 10:35:28 +0000
 * </pre>
 */
final class ReceivedHeader {
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.US);

    private ReceivedHeader() {
    }

    /**
     * @param helo       the name from HELO/EHLO, as the client sent it
     * @param esmtp      whether the client used EHLO
     * @param smtpUtf8   whether the transaction declared SMTPUTF8 (RFC 6531 §4.3: UTF8SMTP, UTF8SMTPS)
     * @param tlsVersion the TLS protocol, or null without TLS
     * @param tlsCipher  the TLS cipher suite, or null
     * @param recipient  the only recipient, or null when there are several
     */
    static String format(String hostname, String helo, InetAddress client, boolean esmtp, boolean smtpUtf8, String tlsVersion,
            String tlsCipher, String queueId, String recipient, ZonedDateTime date) {
        StringBuilder b = new StringBuilder(256);
        b.append("Received: from ").append(sanitize(helo)).append(" (").append(addressLiteral(client)).append(")\r\n");
        String with = smtpUtf8 ? (tlsVersion != null ? "UTF8SMTPS" : "UTF8SMTP")
                : tlsVersion != null ? "ESMTPS" : esmtp ? "ESMTP" : "SMTP";
        b.append("\tby ").append(hostname).append(" (").append(BackstopSmtpConfiguration.SOFTWARE).append(") with ")
                .append(with).append(" id ").append(queueId).append("\r\n");
        if (tlsVersion != null) {
            b.append("\t(using ").append(tlsVersion).append(" with cipher ").append(tlsCipher).append(")\r\n");
        }
        b.append('\t');
        if (recipient != null) {
            b.append("for <").append(recipient).append(">; ");
        }
        b.append(DATE.format(date)).append("\r\n");
        return b.toString();
    }

    /** RFC 5321 §4.1.3 address literal: {@code [192.0.2.1]} or {@code [IPv6:2001:db8::1]}. */
    static String addressLiteral(InetAddress address) {
        return address instanceof Inet6Address ? "[IPv6:" + address.getHostAddress() + "]" : "[" + address.getHostAddress() + "]";
    }

    /** Keeps the HELO name from breaking the header: printable ASCII without parentheses or spaces, at most 255. */
    static String sanitize(String helo) {
        if (helo == null || helo.isEmpty()) {
            return "unknown";
        }
        StringBuilder b = new StringBuilder(Math.min(helo.length(), 255));
        for (int i = 0; i < helo.length() && b.length() < 255; i++) {
            char c = helo.charAt(i);
            b.append(c > 32 && c < 127 && c != '(' && c != ')' ? c : '_');
        }
        return b.toString();
    }
}
