package org.backstopmx.forwarder.smtp;

import java.util.List;
import java.util.Locale;
import org.backstopmx.core.MailExtension;

/**
 * What the server offered in its EHLO reply, as far as the relay client cares.
 *
 * @param pipelining   PIPELINING (RFC 2920)
 * @param sizeLimit    the SIZE limit in bytes (RFC 1870 §4); 0 when SIZE was offered without a limit or not at all
 * @param size         whether SIZE was offered at all (then {@code SIZE=} is sent with MAIL)
 * @param eightBitMime 8BITMIME (RFC 6152)
 * @param dsn          DSN (RFC 3461)
 * @param startTls     STARTTLS (RFC 3207)
 * @param enhancedStatusCodes ENHANCEDSTATUSCODES (RFC 2034)
 * @param smtpUtf8     SMTPUTF8 (RFC 6531)
 */
public record EhloCapabilities(
        boolean pipelining,
        long sizeLimit,
        boolean size,
        boolean eightBitMime,
        boolean dsn,
        boolean startTls,
        boolean enhancedStatusCodes,
        boolean smtpUtf8) {

    /** After HELO: nothing is offered. */
    public static final EhloCapabilities NONE = new EhloCapabilities(false, 0, false, false, false, false, false, false);

    /**
     * Parses the lines of a 250 EHLO reply, with or without their {@code 250-}/{@code 250 } prefixes. The first
     * line is the server's name and is skipped; keywords are case-insensitive (RFC 5321 §4.1.1.1); unknown ones and
     * a SIZE value that is not a number are ignored.
     */
    public static EhloCapabilities parse(List<String> lines) {
        boolean pipelining = false;
        long sizeLimit = 0;
        boolean size = false;
        boolean eightBit = false;
        boolean dsn = false;
        boolean startTls = false;
        boolean enhanced = false;
        boolean utf8 = false;
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.length() >= 4 && Character.isDigit(line.charAt(0)) && (line.charAt(3) == '-' || line.charAt(3) == ' ')) {
                line = line.substring(4);
            }
            String[] words = line.trim().split("\\s+");
            switch (words[0].toUpperCase(Locale.ROOT)) {
                case "PIPELINING" -> pipelining = true;
                case "8BITMIME" -> eightBit = true;
                case "DSN" -> dsn = true;
                case "STARTTLS" -> startTls = true;
                case "ENHANCEDSTATUSCODES" -> enhanced = true;
                case "SMTPUTF8" -> utf8 = true;
                case "SIZE" -> {
                    size = true;
                    if (words.length > 1) {
                        try {
                            sizeLimit = Math.max(0, Long.parseLong(words[1]));
                        } catch (NumberFormatException e) {
                            sizeLimit = 0;
                        }
                    }
                }
                default -> {
                }
            }
        }
        return new EhloCapabilities(pipelining, sizeLimit, size, eightBit, dsn, startTls, enhanced, utf8);
    }

    /** Whether the server offers {@code extension}. */
    public boolean offers(MailExtension extension) {
        return switch (extension) {
            case SMTPUTF8 -> smtpUtf8;
            case EIGHTBITMIME -> eightBitMime;
        };
    }

    /** Whether a message of this many bytes is over the advertised fixed limit (RFC 1870 §6.1). */
    public boolean tooLarge(long messageSize) {
        return sizeLimit > 0 && messageSize > sizeLimit;
    }
}
