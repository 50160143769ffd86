package org.backstopmx.forwarder.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class EhloCapabilitiesTest {

    @Test
    void parsesTheKeywordsWeUse() {
        EhloCapabilities c = EhloCapabilities.parse(List.of(
                "250-mx.primary.example Hello", "250-pipelining", "250-SIZE 52428800", "250-8BITMIME",
                "250-DSN", "250-STARTTLS", "250-AUTH PLAIN", "250 ENHANCEDSTATUSCODES"));
        assertThat(c).isEqualTo(new EhloCapabilities(true, 52_428_800, true, true, true, true, true, false));
        assertThat(c.tooLarge(52_428_800)).isFalse();
        assertThat(c.tooLarge(52_428_801)).isTrue();
    }

    @Test
    void sizeWithoutALimitOrWithGarbageMeansNoLimit() {
        assertThat(EhloCapabilities.parse(List.of("250-x", "250 SIZE")))
                .isEqualTo(new EhloCapabilities(false, 0, true, false, false, false, false, false));
        assertThat(EhloCapabilities.parse(List.of("250-x", "250 SIZE lots")).tooLarge(Long.MAX_VALUE)).isFalse();
    }

    @Test
    void theGreetingLineIsNotAKeyword() {
        assertThat(EhloCapabilities.parse(List.of("250 PIPELINING"))).isEqualTo(EhloCapabilities.NONE);
    }
}
