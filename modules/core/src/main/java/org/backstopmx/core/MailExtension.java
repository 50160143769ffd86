package org.backstopmx.core;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An SMTP extension a stored message needs from every server it is relayed to, decided when it was received. A
 * message that needs one is never sent to a server that does not offer it: it is refused at intake when the primary
 * is known to lack it, and fails permanently at delivery when that is learned only then.
 */
public enum MailExtension {
    /**
     * SMTPUTF8 (RFC 6531): the client declared it and the envelope or the header section holds UTF-8 that is not
     * ASCII. A message that declared it but turned out to be all ASCII does not need it (as Postfix decides).
     */
    SMTPUTF8("5.6.7"),
    /** 8BITMIME (RFC 6152): the body holds octets above 127. */
    EIGHTBITMIME("5.6.3");

    private final String enhancedCode;

    MailExtension(String enhancedCode) {
        this.enhancedCode = enhancedCode;
    }

    /**
     * The enhanced status code (RFC 3463) of a message refused because a server lacks this extension: 5.6.7
     * (RFC 6531 §3.2) or 5.6.3 (conversion required and not supported).
     */
    public String enhancedCode() {
        return enhancedCode;
    }

    /** The EHLO keyword that offers it. */
    public String keyword() {
        return this == EIGHTBITMIME ? "8BITMIME" : name();
    }

    /** As stored: keywords separated by commas, empty for none. */
    public static String format(Set<MailExtension> extensions) {
        return extensions.stream().map(MailExtension::keyword).collect(Collectors.joining(","));
    }

    /** Reads {@link #format}; unknown keywords are an error, so a newer file is not misread. */
    public static Set<MailExtension> parse(String stored) {
        Set<MailExtension> set = EnumSet.noneOf(MailExtension.class);
        if (stored == null || stored.isBlank()) {
            return set;
        }
        for (String keyword : stored.split(",")) {
            String k = keyword.strip().toUpperCase(Locale.ROOT);
            set.add(switch (k) {
                case "SMTPUTF8" -> SMTPUTF8;
                case "8BITMIME" -> EIGHTBITMIME;
                default -> throw new IllegalArgumentException("unknown mail extension: " + keyword);
            });
        }
        return set;
    }
}
