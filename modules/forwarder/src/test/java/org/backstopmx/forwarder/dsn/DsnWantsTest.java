package org.backstopmx.forwarder.dsn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 3461 §4.1: which NOTIFY values ask for a failure report and which for a delay report. */
class DsnWantsTest {

    @ParameterizedTest(name = "NOTIFY={0}: failure {1}, delay {2}")
    @CsvSource(delimiter = '|', nullValues = "null", value = {
            "null                  | true  | true",
            "''                    | true  | true",
            "NEVER                 | false | false",
            "never                 | false | false",
            "FAILURE               | true  | false",
            "DELAY                 | false | true",
            "SUCCESS               | false | false",
            "SUCCESS,FAILURE       | true  | false",
            "SUCCESS,DELAY         | false | true",
            "FAILURE,DELAY         | true  | true",
            "success,failure,delay | true  | true",
            "Delay,Failure         | true  | true",
            "' failure , delay '   | true  | true",
            "'SUCCESS, DELAY'      | false | true",
            "FAILURES              | false | false",
    })
    void truthTable(String notify, boolean failure, boolean delay) {
        assertThat(DsnComposer.wants(notify, DsnAction.FAILED)).as("failure").isEqualTo(failure);
        assertThat(DsnComposer.wants(notify, DsnAction.DELAYED)).as("delay").isEqualTo(delay);
    }
}
