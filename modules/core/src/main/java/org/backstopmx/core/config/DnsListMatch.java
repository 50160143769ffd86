package org.backstopmx.core.config;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Which A records of a DNS list count as a listing, written as Postfix writes {@code postscreen_dnsbl_sites} filters:
 * four dot-separated octets, each a number, a range {@code [2..11]} or a choice {@code [2;4;9]}:
 * {@code 127.0.0.[2..11]}, {@code 127.0.[0..15].[0..255]}. Empty (the default) accepts any A record.
 */
public final class DnsListMatch {
    private static final DnsListMatch ANY = new DnsListMatch(null);

    /** For each of the four octets, the allowed values as {@code [low, high]} pairs; null for "any". */
    private final List<List<int[]>> octets;

    private DnsListMatch(List<List<int[]>> octets) {
        this.octets = octets;
    }

    /** Any A record is a listing. */
    public static DnsListMatch any() {
        return ANY;
    }

    /**
     * Parses a filter.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static DnsListMatch parse(String text) {
        String t = text.trim();
        if (t.isEmpty()) {
            return ANY;
        }
        List<String> parts = octets(t);
        if (parts.size() != 4) {
            throw new IllegalArgumentException("expected four octets like 127.0.0.[2..11], got \"" + text + "\"");
        }
        List<List<int[]>> octets = new ArrayList<>();
        for (String part : parts) {
            octets.add(octet(part, text));
        }
        return new DnsListMatch(List.copyOf(octets));
    }

    /** Splits at the dots between octets, not at those of a range inside brackets. */
    private static List<String> octets(String t) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '[') {
                depth++;
            } else if (c == ']') {
                depth--;
            } else if (c == '.' && depth == 0) {
                parts.add(t.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(t.substring(start));
        return parts;
    }

    private static List<int[]> octet(String part, String text) {
        List<int[]> ranges = new ArrayList<>();
        if (part.startsWith("[") && part.endsWith("]")) {
            for (String choice : part.substring(1, part.length() - 1).split(";", -1)) {
                int dots = choice.indexOf("..");
                if (dots >= 0) {
                    int low = number(choice.substring(0, dots), text);
                    int high = number(choice.substring(dots + 2), text);
                    if (low > high) {
                        throw new IllegalArgumentException("range " + choice + " runs backwards in \"" + text + "\"");
                    }
                    ranges.add(new int[] {low, high});
                } else {
                    int n = number(choice, text);
                    ranges.add(new int[] {n, n});
                }
            }
        } else {
            int n = number(part, text);
            ranges.add(new int[] {n, n});
        }
        return List.copyOf(ranges);
    }

    private static int number(String s, String text) {
        if (!s.matches("[0-9]{1,3}") || Integer.parseInt(s) > 255) {
            throw new IllegalArgumentException("expected octets 0-255, [low..high] or [a;b], got \"" + text + "\"");
        }
        return Integer.parseInt(s);
    }

    /** Whether this accepts any A record. */
    public boolean isAny() {
        return octets == null;
    }

    /** Whether {@code answer}, an A record of the list, counts as a listing. */
    public boolean matches(InetAddress answer) {
        if (!(answer instanceof Inet4Address)) {
            return false;
        }
        if (octets == null) {
            return true;
        }
        byte[] a = answer.getAddress();
        for (int i = 0; i < 4; i++) {
            int v = a[i] & 0xff;
            if (octets.get(i).stream().noneMatch(r -> v >= r[0] && v <= r[1])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DnsListMatch m && toString().equals(m.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        if (octets == null) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        for (List<int[]> o : octets) {
            if (o.size() == 1 && o.get(0)[0] == o.get(0)[1]) {
                parts.add(String.valueOf(o.get(0)[0]));
            } else {
                List<String> choices = new ArrayList<>();
                for (int[] r : o) {
                    choices.add(r[0] == r[1] ? String.valueOf(r[0]) : r[0] + ".." + r[1]);
                }
                parts.add("[" + String.join(";", choices) + "]");
            }
        }
        return String.join(".", parts);
    }
}
