package org.backstopmx.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RecipientStateTest {
    @ParameterizedTest(name = "{0} -> {1}: {2}")
    @CsvSource({
        "QUEUED, DELIVERED, true",
        "QUEUED, DEFERRED, true",
        "QUEUED, FAILED, true",
        "QUEUED, EXPIRED, true",
        "QUEUED, HELD, true",
        "DEFERRED, DEFERRED, true",
        "DEFERRED, DELIVERED, true",
        "HELD, QUEUED, true",
        "HELD, DELIVERED, false",
        "DELIVERED, QUEUED, false",
        "FAILED, DEFERRED, false",
        "EXPIRED, QUEUED, false",
        "QUEUED, QUEUED, false",
    })
    void transitions(RecipientState from, RecipientState to, boolean legal) {
        assertThat(from.canMoveTo(to)).isEqualTo(legal);
    }
}
