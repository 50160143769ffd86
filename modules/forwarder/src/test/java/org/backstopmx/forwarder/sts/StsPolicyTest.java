package org.backstopmx.forwarder.sts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Parsing RFC 8461 policies and TXT records, and matching MX host names against a policy's patterns. */
class StsPolicyTest {
    @Test
    void parsesTheRfcExample() throws Exception {
        StsPolicy p = StsPolicy.parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
                + "mx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n");
        assertThat(p.mode()).isEqualTo(StsPolicy.Mode.ENFORCE);
        assertThat(p.mx()).containsExactly("mail.example.com", "*.example.net", "backupmx.example.com");
        assertThat(p.maxAge()).isEqualTo(Duration.ofDays(7));
    }

    @Test
    void takesLfLinesSpacesUnknownKeysAndTheFirstOfARepeatedKey() throws Exception {
        StsPolicy p = StsPolicy.parse("version:STSv1\nmode:   testing  \nmode: enforce\nmx: MX.Example.COM.\n"
                + "extension: whatever\nmax_age: 86400\n");
        assertThat(p.mode()).isEqualTo(StsPolicy.Mode.TESTING);
        assertThat(p.mx()).containsExactly("mx.example.com");
    }

    @Test
    void modeNoneNeedsNoMx() throws Exception {
        assertThat(StsPolicy.parse("version: STSv1\nmode: none\nmax_age: 0\n").mode()).isEqualTo(StsPolicy.Mode.NONE);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("no version", "mode: enforce\nmx: a.example\nmax_age: 1\n", "version"),
                Arguments.of("another version", "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",
                        "version"),
                Arguments.of("unknown mode", "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n", "mode"),
                Arguments.of("no max_age", "version: STSv1\nmode: enforce\nmx: a.example\n", "max_age"),
                Arguments.of("max_age over a year", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n",
                        "max_age"),
                Arguments.of("negative max_age", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n",
                        "max_age"),
                Arguments.of("enforce without mx", "version: STSv1\nmode: enforce\nmax_age: 1\n", "without mx"),
                Arguments.of("a wildcard inside", "version: STSv1\nmode: enforce\nmx: mx.*.example\nmax_age: 1\n",
                        "mx pattern"),
                Arguments.of("an HTML page", "<html><body>hello</body></html>\n", "key: value"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void refusesWhatIsNotAPolicy(String name, String text, String why) {
        assertThatThrownBy(() -> StsPolicy.parse(text)).isInstanceOf(StsPolicy.Invalid.class).hasMessageContaining(why);
    }

    static Stream<Arguments> hosts() {
        return Stream.of(
                Arguments.of("mail.example.com", true),
                Arguments.of("MAIL.example.com.", true),
                Arguments.of("mx1.example.net", true),
                Arguments.of("example.net", false),
                Arguments.of("a.b.example.net", false),
                Arguments.of("mail.example.com.evil.test", false),
                Arguments.of("xmail.example.com", false),
                Arguments.of("mx1.example.network", false));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("hosts")
    void wildcardCoversExactlyOneLeftmostLabel(String host, boolean matches) {
        StsPolicy p = new StsPolicy(StsPolicy.Mode.ENFORCE, List.of("mail.example.com", "*.example.net"),
                Duration.ofDays(1));
        assertThat(p.matches(host)).isEqualTo(matches);
    }

    static Stream<Arguments> records() {
        return Stream.of(
                Arguments.of("one record", List.of("v=STSv1; id=20160831085700Z;"), Optional.of("20160831085700Z")),
                Arguments.of("no trailing semicolon", List.of("v=STSv1;id=abc"), Optional.of("abc")),
                Arguments.of("others discarded", List.of("v=spf1 -all", "v=STSv1; id=1"), Optional.of("1")),
                Arguments.of("two STS records", List.of("v=STSv1; id=1", "v=STSv1; id=2"), Optional.empty()),
                Arguments.of("no id", List.of("v=STSv1;"), Optional.empty()),
                Arguments.of("id too long", List.of("v=STSv1; id=" + "a".repeat(33)), Optional.empty()),
                Arguments.of("id not alphanumeric", List.of("v=STSv1; id=a-b"), Optional.empty()),
                Arguments.of("version not first", List.of("id=1; v=STSv1"), Optional.empty()),
                Arguments.of("none", List.of(), Optional.empty()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("records")
    void readsTheIdOfTheOneStsRecord(String name, List<String> txts, Optional<String> id) {
        assertThat(StsRecord.id(txts)).isEqualTo(id);
    }
}
