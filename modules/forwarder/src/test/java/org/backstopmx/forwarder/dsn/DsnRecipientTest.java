package org.backstopmx.forwarder.dsn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.backstopmx.core.SmtpReply;
import org.junit.jupiter.api.Test;

class DsnRecipientTest {
    private static final Instant LATER = Instant.parse("2024-03-06T08:00:00Z");

    private static DsnRecipient of(DsnAction action, String status, SmtpReply reply) {
        return new DsnRecipient("bob@example.org", null, action, status, reply, null, null, null,
                action == DsnAction.DELAYED ? LATER : null);
    }

    @Test
    void statusComesFromTheEnhancedCodeThenTheReplyClassThenTheAction() {
        assertThat(of(DsnAction.FAILED, null, SmtpReply.of(550, "5.1.1", "no")).status()).isEqualTo("5.1.1");
        assertThat(of(DsnAction.FAILED, null, SmtpReply.of(554, null, "no")).status()).isEqualTo("5.0.0");
        assertThat(of(DsnAction.DELAYED, null, SmtpReply.of(451, null, "later")).status()).isEqualTo("4.0.0");
        assertThat(of(DsnAction.FAILED, null, null).status()).isEqualTo("5.0.0");
        assertThat(of(DsnAction.DELAYED, null, null).status()).isEqualTo("4.0.0");
    }

    @Test
    void aGivenStatusIsKept() {
        assertThat(of(DsnAction.FAILED, "4.4.7", SmtpReply.of(451, "4.3.0", "later")).status()).isEqualTo("4.4.7");
        assertThat(of(DsnAction.DELAYED, "4.4.1", null).status()).isEqualTo("4.4.1");
    }

    @Test
    void refusesWhatCannotBeReported() {
        assertThatThrownBy(() -> of(DsnAction.FAILED, "2.0.0", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> of(DsnAction.FAILED, "5.1", null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> of(DsnAction.FAILED, null, SmtpReply.of(250, "2.0.0", "ok")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DsnRecipient("bob@example.org", null, DsnAction.FAILED, null, null, null, null,
                null, LATER)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DsnRecipient("", null, DsnAction.FAILED, null, null, null, null, null, null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
