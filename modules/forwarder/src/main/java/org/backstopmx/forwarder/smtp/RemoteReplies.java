package org.backstopmx.forwarder.smtp;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.backstopmx.core.SmtpReply;

/** Turns reply lines as read from a server into an {@link SmtpReply}, leniently: servers are not all RFC-exact. */
final class RemoteReplies {
    private static final Pattern ENHANCED = Pattern.compile("^([245]\\.\\d{1,3}\\.\\d{1,3})(?:\\s+|$)");
    private static final int MAX_TEXT = 1000;

    private RemoteReplies() {
    }

    /**
     * The reply with its enhanced status (RFC 3463) when the first line has one whose class agrees with the code,
     * and the text of all lines joined by a space. Null when the code is outside 200–599 (not a reply a client can
     * act on; the caller treats it as a protocol error).
     */
    static SmtpReply parse(int code, List<String> lines) {
        if (code < 200 || code > 599) {
            return null;
        }
        String enhanced = null;
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String rest = line.length() > 4 ? line.substring(4) : "";
            Matcher m = ENHANCED.matcher(rest);
            if (m.find()) {
                String found = m.group(1);
                if (i == 0 && found.charAt(0) - '0' == code / 100) {
                    enhanced = found;
                }
                if (found.equals(enhanced)) {
                    rest = rest.substring(m.end());
                }
            }
            if (text.length() > 0) {
                text.append(' ');
            }
            text.append(rest.strip());
        }
        String clean = text.toString().replaceAll("[\\x00-\\x1f\\x7f]", " ");
        if (clean.length() > MAX_TEXT) {
            clean = clean.substring(0, MAX_TEXT);
        }
        return new SmtpReply(code, enhanced, clean);
    }
}
