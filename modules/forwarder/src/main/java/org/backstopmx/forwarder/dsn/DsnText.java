package org.backstopmx.forwarder.dsn;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The text encodings a DSN meets: RFC 3461 §4 xtext as the ENVID and ORCPT arrive, and the RFC 6533 §3
 * {@code utf-8-addr-xtext} that carries an internationalized address in a {@code message/delivery-status} part, which
 * must stay 7-bit.
 */
final class DsnText {
    private DsnText() {
    }

    /**
     * Decodes xtext ({@code +XX} hex for any octet) and reads the octets as UTF-8; null when the text is not valid
     * xtext or the octets are not UTF-8. Lower-case hex is accepted, as a lenient reader should.
     */
    static String decodeXtext(String xtext) {
        ByteArrayOutputStream octets = new ByteArrayOutputStream(xtext.length());
        for (int i = 0; i < xtext.length(); i++) {
            char c = xtext.charAt(i);
            if (c == '+') {
                if (i + 2 >= xtext.length()) {
                    return null;
                }
                int hi = Character.digit(xtext.charAt(i + 1), 16);
                int lo = Character.digit(xtext.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                octets.write(hi << 4 | lo);
                i += 2;
            } else if (c < 0x21 || c > 0x7E || c == '=') {
                return null;
            } else {
                octets.write(c);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(octets.toByteArray()))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Whether every character is printable US-ASCII or, when {@code spaceAllowed}, a space. */
    static boolean isPrintableAscii(String s, boolean spaceAllowed) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c > 0x7E || c < 0x20 || (c == ' ' && !spaceAllowed)) {
                return false;
            }
        }
        return true;
    }

    /** Whether every character is US-ASCII. */
    static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7F) {
                return false;
            }
        }
        return true;
    }

    /**
     * An address as a DSN address field value with its type (RFC 3464 §2.3.2): {@code rfc822; a@b} for US-ASCII,
     * {@code utf-8; <utf-8-addr-xtext>} otherwise (RFC 6533 §3), so that the report part stays 7-bit.
     */
    static String typedAddress(String address) {
        if (isPrintableAscii(address, true)) {
            return "rfc822; " + address;
        }
        return "utf-8; " + utf8AddrXtext(address);
    }

    /**
     * RFC 6533 §3 {@code utf-8-addr-xtext}: printable US-ASCII except {@code +}, {@code =} and {@code \} as themselves,
     * everything else as {@code \x{HEX}} with the code point in upper-case hex.
     */
    static String utf8AddrXtext(String address) {
        StringBuilder sb = new StringBuilder(address.length() + 16);
        address.codePoints().forEach(cp -> {
            boolean qchar = cp >= 0x21 && cp <= 0x7E && cp != '+' && cp != '=' && cp != '\\';
            if (qchar) {
                sb.append((char) cp);
            } else {
                String hex = Integer.toHexString(cp).toUpperCase(Locale.ROOT);
                sb.append("\\x{").append(hex.length() < 2 ? "0" + hex : hex).append('}');
            }
        });
        return sb.toString();
    }

    /**
     * Text from elsewhere (a reply, a host name) made fit for one field of a {@code message/delivery-status} part:
     * control characters become spaces and anything beyond US-ASCII becomes {@code ?}.
     */
    static String asciiField(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp == 0x7F) {
                sb.append(' ');
            } else if (cp > 0x7E) {
                sb.append('?');
            } else {
                sb.append((char) cp);
            }
        });
        return sb.toString().strip();
    }

    /** Text made one line for the human-readable part: control characters become spaces, Unicode is kept. */
    static String oneLine(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            if (cp < 0x20 || cp == 0x7F || cp == 0x85 || cp == 0x2028 || cp == 0x2029) {
                sb.append(' ');
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.toString().strip();
    }
}
