package org.backstopmx.smtpin.spf;

import java.net.InetAddress;
import java.util.Objects;
import java.util.regex.Pattern;
import org.backstopmx.core.SpfResult;

/**
 * What the SPF check of one transaction found, and the two trace headers that tell the primary: {@code Received-SPF:}
 * (RFC 7208 §9.1) and {@code Authentication-Results:} (RFC 8601, RFC 7208 §9.2) with our hostname as authserv-id.
 *
 * <pre>
 * Authentication-Results: backstop.example.org;
 * 	spf=pass (domain of example.com designates 192.0.2.1 as permitted sender) smtp.mailfrom=example.com
 * Received-SPF: pass (backstop.example.org: domain of example.com designates 192.0.2.1 as permitted sender)
 * 	receiver=backstop.example.org; client-ip=192.0.2.1; envelope-from="a@example.com"; helo=client.example;
 * 	identity=mailfrom;
 * </pre>
 *
 * Nothing the client or the sender's DNS chose goes into a comment (no {@code exp=} text): values are quoted where
 * they are not plain atoms, control characters dropped.
 *
 * @param result   the result
 * @param identity {@value #MAILFROM} or {@value #HELO} (the null sender)
 * @param client   the client's address
 * @param sender   the envelope sender, empty for the null sender
 * @param helo     the HELO/EHLO name as given, possibly empty
 * @param domain   the domain checked (of the sender, or the HELO name), as given when it is not a domain
 * @param reason   why, for the log: jSPF's explanation, the limit that was hit, or empty
 */
public record SpfVerdict(SpfResult result, String identity, InetAddress client, String sender, String helo,
        String domain, String reason) {
    public static final String MAILFROM = "mailfrom";
    public static final String HELO = "helo";
    private static final Pattern DOT_ATOM = Pattern.compile("[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*");
    /** RFC 2045 token characters, less those that would read oddly: what needs no quotes in Authentication-Results. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._@+-]+");

    public SpfVerdict {
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(client, "client");
        sender = sender == null ? "" : sender;
        helo = helo == null ? "" : helo;
        domain = domain == null ? "" : domain;
        reason = reason == null ? "" : reason;
    }

    /** Both headers, {@code Authentication-Results:} first (RFC 8601 §5: added at the top), each ending in CRLF. */
    public String headers(String hostname) {
        return authenticationResults(hostname) + receivedSpf(hostname);
    }

    String authenticationResults(String hostname) {
        String property = MAILFROM.equals(identity) ? "smtp.mailfrom" : "smtp.helo";
        return "Authentication-Results: " + hostname + ";\r\n\tspf=" + result.keyword() + " (" + comment() + ") "
                + property + "=" + value(domain, TOKEN) + "\r\n";
    }

    String receivedSpf(String hostname) {
        StringBuilder b = new StringBuilder(256);
        b.append("Received-SPF: ").append(result.keyword()).append(" (").append(hostname).append(": ")
                .append(comment()).append(")\r\n");
        b.append("\treceiver=").append(hostname).append("; client-ip=")
                .append(value(client.getHostAddress(), DOT_ATOM)).append("; envelope-from=")
                .append(quoted(MAILFROM.equals(identity) ? sender : "postmaster@" + helo)).append(";\r\n");
        b.append("\thelo=").append(value(helo, DOT_ATOM)).append("; identity=").append(identity).append(";\r\n");
        return b.toString();
    }

    /** The wording of RFC 7208 §9.1's examples; nothing from the sender's DNS. */
    private String comment() {
        String ip = client.getHostAddress();
        String of = "domain of " + safe(domain);
        return switch (result) {
            case PASS -> of + " designates " + ip + " as permitted sender";
            case FAIL -> of + " does not designate " + ip + " as permitted sender";
            case SOFTFAIL -> "transitioning " + of + " does not designate " + ip + " as permitted sender";
            case NEUTRAL -> ip + " is neither permitted nor denied by " + of;
            case NONE -> of + " does not provide an SPF record";
            case TEMPERROR -> "error in retrieving the SPF record of " + safe(domain) + " from DNS";
            case PERMERROR -> "error in processing the SPF record of " + safe(domain);
        };
    }

    private static String value(String s, Pattern plain) {
        return plain.matcher(s).matches() ? s : quoted(s);
    }

    /** An RFC 5322 quoted-string: backslash and quote escaped, control characters dropped. */
    private static String quoted(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 32 || c == 127) {
                continue;
            }
            if (c == '"' || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.append('"').toString();
    }

    /** For a comment: printable ASCII without parentheses or backslashes. */
    private static String safe(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 255));
        for (int i = 0; i < s.length() && b.length() < 255; i++) {
            char c = s.charAt(i);
            b.append(c > 32 && c < 127 && c != '(' && c != ')' && c != '\\' ? c : '_');
        }
        return b.length() == 0 ? "_" : b.toString();
    }
}
