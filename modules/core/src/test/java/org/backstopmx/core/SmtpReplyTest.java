package org.backstopmx.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SmtpReplyTest {
    @Test
    void rendersCodeEnhancedAndText() {
        assertThat(SmtpReply.of(550, "5.7.1", "Relay access denied")).hasToString("550 5.7.1 Relay access denied");
    }

    @Test
    void refusesAClassMismatch() {
        assertThatThrownBy(() -> SmtpReply.of(550, "4.1.1", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SmtpReply.of(250, "5.0.0", "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void refusesMultiLineText() {
        assertThatThrownBy(() -> SmtpReply.of(250, "2.0.0", "a\r\nb")).isInstanceOf(IllegalArgumentException.class);
    }
}
