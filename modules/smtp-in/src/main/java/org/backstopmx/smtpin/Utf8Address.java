package org.backstopmx.smtpin;

import java.net.IDN;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An address with UTF-8 in it (RFC 6531 §3.3): {@code MAIL FROM:<jörg@bücher.example> SMTPUTF8}. James parses
 * addresses with a US-ASCII grammar, so before James sees the command the address is checked here and replaced by an
 * ASCII stand-in with the same domain; the hook that takes the address uses the real one ({@link Utf8Addresses}).
 *
 * <p>The local part is a dot-string whose atoms may hold any UTF-8 character beyond ASCII, or a quoted string that
 * may; the domain may be written with U-labels and is kept in its ASCII (A-label) form, which every server takes
 * and which our served domains are configured in. Malformed UTF-8 reaches us as U+FFFD (the session decodes command
 * lines as UTF-8) and is refused like any other bad character.
 *
 * @param localPart the local part as sent (UTF-8 kept, quotes kept)
 * @param domain    the domain in lower case, IDNA ASCII form
 */
record Utf8Address(String localPart, String domain) {
    /** {@code FROM:} or {@code TO:}, then the path, then the parameters. */
    private static final Pattern COMMAND = Pattern.compile("((?:FROM|TO):\\s*)<([^<>]*)>(.*)",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final String ATEXT_ASCII = "!#$%&'*+-/=?^_`{|}~";
    private static final int MAX_LOCAL_PART = 64 * 4;

    /** What a command argument with non-ASCII characters in its address comes to. */
    sealed interface Parsed {
    }

    /**
     * The address is good.
     *
     * @param address  the address
     * @param standIn  the argument to hand James instead: the address replaced by an ASCII one in the same domain
     */
    record Good(Utf8Address address, String standIn) implements Parsed {
    }

    /**
     * The address is not a valid internationalized address.
     *
     * @param standIn the argument to hand James so that its sequence checks run and ours refuse the address
     */
    record Bad(String standIn) implements Parsed {
    }

    /** Whether the text holds anything beyond ASCII. */
    static boolean hasNonAscii(CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 127) {
                return true;
            }
        }
        return false;
    }

    /**
     * Parses the argument of a MAIL or RCPT command ({@code FROM:<…> params}) whose address has non-ASCII in it;
     * empty when the address part is plain ASCII (James parses it as always) or the argument has no {@code <…>}.
     */
    static Optional<Parsed> parseArgument(String argument) {
        if (argument == null) {
            return Optional.empty();
        }
        Matcher m = COMMAND.matcher(argument.trim());
        if (!m.matches() || !hasNonAscii(m.group(2))) {
            return Optional.empty();
        }
        Optional<Utf8Address> address = parse(m.group(2));
        String standIn = m.group(1) + "<utf8.address@" + address.map(Utf8Address::domain).orElse("invalid") + ">"
                + m.group(3);
        return Optional.of(address.<Parsed>map(a -> new Good(a, standIn)).orElseGet(() -> new Bad(standIn)));
    }

    /** Parses {@code local@domain} (no angle brackets, no source route). */
    static Optional<Utf8Address> parse(String mailbox) {
        int at = mailbox.lastIndexOf('@');
        if (at <= 0 || at == mailbox.length() - 1) {
            return Optional.empty();
        }
        String local = mailbox.substring(0, at);
        String domain = mailbox.substring(at + 1);
        if (local.length() > MAX_LOCAL_PART || !(dotString(local) || quotedString(local))) {
            return Optional.empty();
        }
        return asciiDomain(domain).map(d -> new Utf8Address(local, d));
    }

    /** The address as stored: the UTF-8 local part and the ASCII domain. */
    String address() {
        return localPart + "@" + domain;
    }

    private static boolean dotString(String s) {
        if (s.isEmpty() || s.startsWith(".") || s.endsWith(".") || s.contains("..")) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c == '.' || (c < 128 && (Character.isLetterOrDigit(c) || ATEXT_ASCII.indexOf(c) >= 0))
                    || nonAsciiOk(s, i);
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean quotedString(String s) {
        if (s.length() < 2 || s.charAt(0) != '"' || s.charAt(s.length() - 1) != '"') {
            return false;
        }
        for (int i = 1; i < s.length() - 1; i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                i++;
                if (i >= s.length() - 1 || s.charAt(i) < 32 || s.charAt(i) > 126) {
                    return false;
                }
            } else if (c == '"' || (c < 128 && (c < 32 || c == 127)) || (c >= 128 && !nonAsciiOk(s, i))) {
                return false;
            }
        }
        return true;
    }

    /** A character beyond ASCII at {@code i}: anything but a decoding error, a control or a lone surrogate. */
    private static boolean nonAsciiOk(String s, int i) {
        char c = s.charAt(i);
        if (c < 128 || c == '\uFFFD' || Character.isISOControl(c)) {
            return false;
        }
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
        }
        return true;
    }

    /** The domain in IDNA ASCII form, lower case; empty when it is not a valid host name. */
    private static Optional<String> asciiDomain(String domain) {
        if (domain.startsWith("[") || domain.indexOf('\uFFFD') >= 0) {
            return Optional.empty(); // an address literal with UTF-8 in it is no address literal
        }
        try {
            String ascii = IDN.toASCII(domain, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
            return ascii.isEmpty() || ascii.length() > 255 || ascii.endsWith(".") ? Optional.empty() : Optional.of(ascii);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
