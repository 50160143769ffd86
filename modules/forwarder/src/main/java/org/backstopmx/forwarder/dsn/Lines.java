package org.backstopmx.forwarder.dsn;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Folding and wrapping of the lines the composer generates. RFC 5322 §2.1.1 allows 998 octets per line and asks for
 * 78; addresses, replies and ORCPT values can be long, so every generated header line is folded at spaces to aim for
 * 78 and, as a last resort for a single word longer than a line may be (no valid address is), cut so that no line ever
 * exceeds 998 octets.
 */
final class Lines {
    /** RFC 5322 §2.1.1: the line length to aim for. */
    static final int SOFT_LIMIT = 78;
    /** RFC 5322 §2.1.1 and RFC 5321 §4.5.3.1.6: the most octets a line may have, CRLF not counted. */
    static final int HARD_LIMIT = 998;

    private Lines() {
    }

    /**
     * A header field ({@code Name: value}) as physical lines: folded before a space (RFC 5322 §2.2.3), so unfolding
     * gives the field back, except that a word too long for any line is cut with a folding space.
     */
    static List<String> foldHeader(String field) {
        List<String> tokens = new ArrayList<>();
        // each token after the first starts with the space it may be folded before
        int start = 0;
        for (int i = 1; i < field.length(); i++) {
            if (field.charAt(i) == ' ' && field.charAt(i - 1) != ' ') {
                tokens.add(field.substring(start, i));
                start = i;
            }
        }
        tokens.add(field.substring(start));
        List<String> lines = new ArrayList<>();
        String current = tokens.get(0);
        for (int i = 1; i < tokens.size(); i++) {
            String token = tokens.get(i);
            if (octets(current) + octets(token) <= SOFT_LIMIT || current.isBlank()) {
                current += token;
            } else {
                lines.add(current);
                current = token;
            }
        }
        lines.add(current);
        return hardCut(lines, " ");
    }

    /**
     * A paragraph of the human-readable part wrapped at spaces to 78 octets; continuation lines start with
     * {@code indent}.
     */
    static List<String> wrap(String text, String indent) {
        List<String> lines = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String word : text.split(" +")) {
            if (word.isEmpty()) {
                continue;
            }
            if (current.length() == 0) {
                current.append(lines.isEmpty() ? "" : indent).append(word);
            } else if (octets(current.toString()) + 1 + octets(word) <= SOFT_LIMIT) {
                current.append(' ').append(word);
            } else {
                lines.add(current.toString());
                current.setLength(0);
                current.append(indent).append(word);
            }
        }
        lines.add(current.toString());
        return hardCut(lines, indent.isEmpty() ? " " : indent);
    }

    /** Cuts every line longer than 998 octets, at code point boundaries; the pieces after the first get the prefix. */
    private static List<String> hardCut(List<String> lines, String prefix) {
        List<String> out = new ArrayList<>(lines.size());
        for (String line : lines) {
            String rest = line;
            while (octets(rest) > HARD_LIMIT) {
                int end = 0;
                int size = 0;
                while (end < rest.length()) {
                    int cp = rest.codePointAt(end);
                    int n = utf8Length(cp);
                    if (size + n > HARD_LIMIT) {
                        break;
                    }
                    size += n;
                    end += Character.charCount(cp);
                }
                out.add(rest.substring(0, end));
                rest = prefix + rest.substring(end);
            }
            out.add(rest);
        }
        return out;
    }

    static int octets(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static int utf8Length(int cp) {
        return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }
}
