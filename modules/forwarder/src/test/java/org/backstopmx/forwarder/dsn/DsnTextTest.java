package org.backstopmx.forwarder.dsn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DsnTextTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', nullValues = "null", value = {
            "abc                | abc",
            "a+2Bb              | a+b",
            "a+3Db+3d           | a=b=",
            "+2B                | +",
            "j+C3+B6rg          | jörg",
            "a+                 | null",
            "a+2                | null",
            "a+ZZ               | null",
            "a=b                | null",
            "+FF                | null",
    })
    void decodesXtext(String xtext, String decoded) {
        assertThat(DsnText.decodeXtext(xtext)).isEqualTo(decoded);
    }

    @Test
    void internationalizedAddressesBecomeUtf8AddrXtext() {
        assertThat(DsnText.typedAddress("bob@example.org")).isEqualTo("rfc822; bob@example.org");
        assertThat(DsnText.typedAddress("jörg@bücher.example")).isEqualTo("utf-8; j\\x{F6}rg@b\\x{FC}cher.example");
        assertThat(DsnText.utf8AddrXtext("a+b=c\\d\u00e9\uD83D\uDE00")).isEqualTo("a\\x{2B}b\\x{3D}c\\x{5C}d\\x{E9}\\x{1F600}");
    }

    @Test
    void foldedHeadersUnfoldToTheFieldAndStayWithinTheLimits() {
        String field = "Diagnostic-Code: smtp; 550 5.7.1 " + "word ".repeat(100) + "end";
        List<String> lines = Lines.foldHeader(field);
        assertThat(lines).hasSizeGreaterThan(1).allMatch(l -> l.length() <= Lines.SOFT_LIMIT);
        assertThat(lines.subList(1, lines.size())).allMatch(l -> l.startsWith(" ") && !l.isBlank());
        assertThat(String.join("", lines)).isEqualTo(field);
        assertThat(Lines.foldHeader("Subject: short")).containsExactly("Subject: short");
    }

    @Test
    void aWordLongerThanALineIsCutAtCodePoints() {
        String field = "To: <" + "é".repeat(700) + "@example.org>";
        List<String> lines = Lines.foldHeader(field);
        assertThat(lines).allMatch(l -> Lines.octets(l) <= Lines.HARD_LIMIT);
        assertThat(String.join("", lines).replace(" ", "")).isEqualTo(field.replace(" ", ""));
    }

    @Test
    void wrapsTextWithAnIndent() {
        List<String> lines = Lines.wrap("<bob@example.org>: " + "word ".repeat(40), "    ");
        assertThat(lines).hasSizeGreaterThan(1).allMatch(l -> l.length() <= Lines.SOFT_LIMIT);
        assertThat(lines.subList(1, lines.size())).allMatch(l -> l.startsWith("    word"));
    }
}
