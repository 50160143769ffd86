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

    /**
     * The first parameter keyword given twice in {@code argument} ({@code ORCPT=... ORCPT=...}): James's parser
     * threw on it, so it never reached a hook, and there is no telling which of the two the client meant.
     */
    static Optional<String> firstDuplicate(String argument) {
        Set<String> seen = new java.util.HashSet<>();
        return keywords(argument).stream().filter(k -> !seen.add(k)).findFirst();
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
        return naming(Replies.UNSUPPORTED_PARAMETER, keyword);
    }

    /** The 501 5.5.4 reply naming the parameter given twice. */
    static SmtpReply duplicate(String keyword) {
        return naming(Replies.DUPLICATE_PARAMETER, keyword);
    }

    /** Any check of the parameters: an unsupported one, or one given twice; empty when all is well. */
    static Optional<SmtpReply> refusal(String argument, Set<String> supported) {
        Optional<SmtpReply> unsupported = firstUnsupported(argument, supported).map(CommandParameters::unsupported);
        return unsupported.isPresent() ? unsupported : firstDuplicate(argument).map(CommandParameters::duplicate);
    }

    private static SmtpReply naming(SmtpReply template, String keyword) {
        // the keyword is echoed; keep it short and printable so a client cannot shape our reply
        String shown = keyword.length() > 40 ? keyword.substring(0, 40) : keyword;
        shown = shown.replaceAll("[^\\x21-\\x7e]", "?");
        return template.withText(String.format(template.text(), shown));
    }
}
