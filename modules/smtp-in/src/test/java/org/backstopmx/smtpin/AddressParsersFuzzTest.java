package org.backstopmx.smtpin;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Optional;
import java.util.Set;

/**
 * Coverage-guided fuzzing of our own parsers for MAIL and RCPT arguments: internationalized addresses (RFC 6531),
 * ESMTP parameter keywords and xtext (RFC 3461 §4). None may throw on any input, a good address must come out in the
 * form we store (ASCII domain in lower case, a local part within its limit), the stand-in handed to James must be
 * plain ASCII, and the 555 reply must never carry a character the client chose outside printable ASCII.
 */
class AddressParsersFuzzTest {
    private static final Set<String> SUPPORTED = Set.of("SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", "NOTIFY", "ORCPT");

    @FuzzTest(maxDuration = "10s")
    void parsersTakeAnyArgument(FuzzedDataProvider data) {
        String argument = data.consumeRemainingAsString();

        Optional<Utf8Address.Parsed> parsed = Utf8Address.parseArgument(argument);
        parsed.ifPresent(p -> {
            String standIn = p instanceof Utf8Address.Good good ? good.standIn() : ((Utf8Address.Bad) p).standIn();
            assertThat(Utf8Address.hasNonAscii(standIn.substring(0, standIn.indexOf('>') + 1)))
                    .as("stand-in address for James: %s", standIn).isFalse();
            if (p instanceof Utf8Address.Good good) {
                String domain = good.address().domain();
                assertThat(Utf8Address.hasNonAscii(domain)).as("domain %s", domain).isFalse();
                assertThat(domain).isEqualTo(domain.toLowerCase(java.util.Locale.ROOT));
                assertThat(good.address().address()).endsWith("@" + domain);
            }
        });

        Optional<String> unsupported = CommandParameters.firstUnsupported(argument, SUPPORTED);
        unsupported.ifPresent(keyword -> {
            assertThat(SUPPORTED).doesNotContain(keyword);
            String text = CommandParameters.unsupported(keyword).text();
            assertThat(text).as("555 reply text").matches("[\\x20-\\x7e]*");
        });
        CommandParameters.has(argument, "SIZE");

        Xtext.isValid(argument);
    }
}
