package org.backstopmx.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DnsListMatchTest {
    @ParameterizedTest(name = "{0} vs {1}: {2}")
    @CsvSource({
            "127.0.0.[2..11],   127.0.0.2,   true",
            "127.0.0.[2..11],   127.0.0.11,  true",
            "127.0.0.[2..11],   127.0.0.12,  false",
            "127.0.0.[2..11],   127.0.1.2,   false",
            "127.0.0.[2;4;9],   127.0.0.4,   true",
            "127.0.0.[2;4;9],   127.0.0.3,   false",
            "127.0.0.[2;10..11], 127.0.0.10, true",
            "127.0.0.2,         127.0.0.2,   true",
            "127.0.0.2,         127.0.0.3,   false",
            "'',                127.0.0.255, true",
    })
    void matches(String filter, String answer, boolean expected) throws Exception {
        assertEquals(expected, DnsListMatch.parse(filter).matches(InetAddress.getByName(answer)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0", "127.0.0.256", "127.0.0.[11..2]", "127.0.0.[2..]", "127.0.0.x", "127.0.0.0.1"})
    void refused(String filter) {
        assertThrows(IllegalArgumentException.class, () -> DnsListMatch.parse(filter));
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.[2..11]", "127.0.[0..15].[2;4]", "127.0.0.2"})
    void writtenBack(String filter) {
        assertEquals(filter, DnsListMatch.parse(filter).toString());
    }
}
