package org.backstopmx.smtpin;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.StringTokenizer;
import org.backstopmx.core.SmtpReply;

/**
 * The ESMTP parameters after the address of MAIL FROM and RCPT TO ({@code MAIL FROM:<a@b> SIZE=10 BODY=8BITMIME}),
 * split as James splits them: the first {@code >} after the first {@code <} ends the address, the parameters follow
 * it after one space, separated by spaces. RFC 5321 §4.1.1.11: a parameter the server does not support (we advertise
 * exactly those we support) gets {@code 555 5.5.4}, as Postfix answers; James would ignore an unknown MAIL parameter
 * (so {@code SMTPUTF8} without our SMTPUTF8 support would be taken on) and answer an unknown RCPT one with 504 and no
 * enhanced code.
 */
final class CommandParameters {
    private CommandParameters() {
    }

    /** The first parameter in {@code argument} (all of {@code FROM:<a@b> SIZE=10}) whose keyword is not supported. */
    static Optional<String> firstUnsupported(String argument, Set<String> supported) {
        return keywords(argument).stream().filter(k -> !supported.contains(k)).findFirst();
    }

    /** Whether {@code argument} has the parameter {@code keyword} (upper case), with or without a value. */
    static boolean has(String argument, String keyword) {
        return keywords(argument).contains(keyword);
    }

    /** The parameter keywords after the address, upper case, in order. */
    private static List<String> keywords(String argument) {
        if (argument == null) {
            return List.of();
        }
        int open = argument.indexOf('<');
        int close = open < 0 ? -1 : argument.indexOf('>', open);
        if (close < 0 || close + 1 >= argument.length()) {
            return List.of();
        }
        List<String> keywords = new ArrayList<>();
        StringTokenizer tokens = new StringTokenizer(argument.substring(close + 1), " ");
        while (tokens.hasMoreTokens()) {
            String token = tokens.nextToken();
            int equals = token.indexOf('=');
            keywords.add((equals < 0 ? token : token.substring(0, equals)).toUpperCase(Locale.ROOT));
        }
        return keywords;
    }

    /** The 555 5.5.4 reply naming the parameter. */
    static SmtpReply unsupported(String keyword) {
        // the keyword is echoed; keep it short and printable so a client cannot shape our reply
        String shown = keyword.length() > 40 ? keyword.substring(0, 40) : keyword;
        shown = shown.replaceAll("[^\\x21-\\x7e]", "?");
        return Replies.UNSUPPORTED_PARAMETER.withText(String.format(Replies.UNSUPPORTED_PARAMETER.text(), shown));
    }
}
