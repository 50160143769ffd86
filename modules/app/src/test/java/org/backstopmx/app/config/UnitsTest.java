package org.backstopmx.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class UnitsTest {
    static Stream<Arguments> durations() {
        return Stream.of(
                Arguments.of("250ms", Duration.ofMillis(250)),
                Arguments.of("30s", Duration.ofSeconds(30)),
                Arguments.of("5m", Duration.ofMinutes(5)),
                Arguments.of("67m", Duration.ofMinutes(67)),
                Arguments.of("1h", Duration.ofHours(1)),
                Arguments.of("5d", Duration.ofDays(5)),
                Arguments.of("1h30m", Duration.ofMinutes(90)),
                Arguments.of("1m500ms", Duration.ofMillis(60_500)),
                Arguments.of(" 10s ", Duration.ofSeconds(10)),
                Arguments.of("0s", Duration.ZERO),
                Arguments.of("PT5M", Duration.ofMinutes(5)),
                Arguments.of("pt30s", Duration.ofSeconds(30)),
                Arguments.of("P5D", Duration.ofDays(5)),
                Arguments.of("P1DT2H", Duration.ofHours(26)));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("durations")
    void parsesDurations(String text, Duration expected) {
        assertThat(Units.parseDuration(text)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "\"{0}\" is not a duration")
    @ValueSource(strings = {"", "300", "5", "5 m", "5M", "5min", "1.5h", "-5m", "m", "5mm", "PT", "P5X",
            "99999999999999999999d", "10w"})
    void refusesOtherDurations(String text) {
        assertThatThrownBy(() -> Units.parseDuration(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("must be a duration like 250ms, 30s, 5m, 1h, 5d or PT5M, got \"" + text + "\"");
    }

    static Stream<Arguments> sizes() {
        return Stream.of(
                Arguments.of("512", 512L),
                Arguments.of("0", 0L),
                Arguments.of("512B", 512L),
                Arguments.of("64KB", 64L * 1024),
                Arguments.of("64kb", 64L * 1024),
                Arguments.of("64K", 64L * 1024),
                Arguments.of("64KiB", 64L * 1024),
                Arguments.of("50MB", 50L * 1024 * 1024),
                Arguments.of("50 MB", 50L * 1024 * 1024),
                Arguments.of("50mib", 50L * 1024 * 1024),
                Arguments.of("1GB", 1024L * 1024 * 1024),
                Arguments.of("1GiB", 1024L * 1024 * 1024),
                Arguments.of("2TB", 2L << 40));
    }

    @ParameterizedTest(name = "{0} = {1} bytes")
    @MethodSource("sizes")
    void parsesSizes(String text, long expected) {
        assertThat(Units.parseSize(text)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "\"{0}\" is not a size")
    @ValueSource(strings = {"", "MB", "-1", "1.5MB", "50XB", "50 M B", "fifty"})
    void refusesOtherSizes(String text) {
        assertThatThrownBy(() -> Units.parseSize(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("must be a size like 512, 64KB, 50MB or 1GB, got \"" + text + "\"");
    }

    @ParameterizedTest(name = "\"{0}\" overflows")
    @ValueSource(strings = {"9999999999TB", "99999999999999999999"})
    void refusesSizesBeyondLong(String text) {
        assertThatThrownBy(() -> Units.parseSize(text)).hasMessage("is too large, got \"" + text + "\"");
    }
}
