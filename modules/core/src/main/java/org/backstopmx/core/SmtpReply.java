package org.backstopmx.core;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One SMTP reply as a value: the three-digit code (RFC 5321 §4.2), the enhanced status code (RFC 3463) and the text.
 * The class digit of the code and of the enhanced status always agree (2 with 2, 4 with 4, 5 with 5); the
 * constructor refuses anything else so a reply like {@code 550 4.1.1} cannot be written.
 */
public record SmtpReply(int code, String enhanced, String text) {
    private static final Pattern ENHANCED = Pattern.compile("[245]\\.\\d{1,3}\\.\\d{1,3}");

    public SmtpReply {
        if (code < 200 || code > 599) {
            throw new IllegalArgumentException("SMTP reply code out of range: " + code);
        }
        Objects.requireNonNull(text, "text");
        if (enhanced != null) {
            if (!ENHANCED.matcher(enhanced).matches()) {
                throw new IllegalArgumentException("not an enhanced status code: " + enhanced);
            }
            if (enhanced.charAt(0) - '0' != code / 100) {
                throw new IllegalArgumentException("reply class " + code + " does not match enhanced status " + enhanced);
            }
        }
        if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("reply text must be one line");
        }
    }

    public static SmtpReply of(int code, String enhanced, String text) {
        return new SmtpReply(code, enhanced, text);
    }

    public boolean isPositive() {
        return code < 400;
    }

    public boolean isTransient() {
        return code >= 400 && code < 500;
    }

    public boolean isPermanent() {
        return code >= 500;
    }

    /** The same reply with other text. */
    public SmtpReply withText(String newText) {
        return new SmtpReply(code, enhanced, newText);
    }

    /** The reply as it goes on the wire, without the line ending: {@code 250 2.0.0 Ok}. */
    @Override
    public String toString() {
        return enhanced == null ? code + " " + text : code + " " + enhanced + " " + text;
    }
}
