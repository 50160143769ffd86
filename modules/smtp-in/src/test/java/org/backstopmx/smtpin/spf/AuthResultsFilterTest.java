package org.backstopmx.smtpin.spf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Forged {@code Authentication-Results:} fields of ours leave the header section, whatever the write boundaries;
 * everything else stays byte for byte.
 */
class AuthResultsFilterTest {
    private static final String US = "mx2.backstop.test";

    static Stream<Arguments> messages() {
        String body = "\r\nBody line\r\nAuthentication-Results: mx2.backstop.test; spf=pass\r\n";
        return Stream.of(
                Arguments.of("ours, dropped",
                        "Authentication-Results: mx2.backstop.test; spf=pass smtp.mailfrom=x.test\r\nSubject: hi\r\n" + body,
                        "Subject: hi\r\n" + body),
                Arguments.of("ours folded, in another case, with a comment and a trailing dot, dropped whole",
                        "Subject: hi\r\nauthentication-results: (forged)\r\n MX2.Backstop.Test. ;\r\n\tspf=pass\r\nTo: b@x.test\r\n" + body,
                        "Subject: hi\r\nTo: b@x.test\r\n" + body),
                Arguments.of("another authserv-id, kept",
                        "Authentication-Results: mx.example.org; dkim=pass\r\n\tspf=pass\r\nSubject: hi\r\n" + body,
                        "Authentication-Results: mx.example.org; dkim=pass\r\n\tspf=pass\r\nSubject: hi\r\n" + body),
                Arguments.of("a longer id that starts with ours, kept",
                        "Authentication-Results: mx2.backstop.test.evil; spf=pass\r\n" + body,
                        "Authentication-Results: mx2.backstop.test.evil; spf=pass\r\n" + body),
                Arguments.of("a name that only starts the same, kept",
                        "Authentication-Results-Original: mx2.backstop.test; spf=pass\r\nAuth: x\r\n" + body,
                        "Authentication-Results-Original: mx2.backstop.test; spf=pass\r\nAuth: x\r\n" + body),
                Arguments.of("ours as the last field of a message without a body, dropped",
                        "Subject: hi\r\nAuthentication-Results: mx2.backstop.test; none\r\n",
                        "Subject: hi\r\n"),
                Arguments.of("ours in the body, kept", "Subject: hi\r\n" + body, "Subject: hi\r\n" + body));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("messages")
    void onlyOurForgedFieldsGo(String why, String in, String expected) throws IOException {
        byte[] bytes = in.getBytes(StandardCharsets.US_ASCII);
        // in one write, octet by octet, and split at every position
        for (int split = 0; split <= bytes.length; split++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            AuthResultsFilter f = new AuthResultsFilter(out, US);
            f.write(bytes, 0, split);
            f.write(bytes, split, bytes.length - split);
            f.finish();
            assertThat(out.toString(StandardCharsets.US_ASCII)).as("split at %d", split).isEqualTo(expected);
            assertThat(f.written()).isEqualTo(expected.length());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AuthResultsFilter f = new AuthResultsFilter(out, US);
        for (byte b : bytes) {
            f.write(b);
        }
        f.finish();
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo(expected);
    }
}
