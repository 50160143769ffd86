package org.backstopmx.forwarder.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.backstopmx.core.SmtpReply;
import org.junit.jupiter.api.Test;

class RemoteRepliesTest {

    @Test
    void enhancedCodeWhenPresentAndOfTheSameClass() {
        assertThat(RemoteReplies.parse(550, List.of("550 5.1.1 <x@y>: no such user")))
                .isEqualTo(SmtpReply.of(550, "5.1.1", "<x@y>: no such user"));
        assertThat(RemoteReplies.parse(354, List.of("354 End data with <CR><LF>.<CR><LF>")))
                .isEqualTo(SmtpReply.of(354, null, "End data with <CR><LF>.<CR><LF>"));
    }

    @Test
    void mismatchedEnhancedCodeStaysInTheText() {
        assertThat(RemoteReplies.parse(250, List.of("250 5.0.0 odd but accepted")))
                .isEqualTo(SmtpReply.of(250, null, "5.0.0 odd but accepted"));
    }

    @Test
    void multiLineRepliesAreJoined() {
        assertThat(RemoteReplies.parse(452, List.of("452-4.2.2 mailbox full", "452 4.2.2 try later")))
                .isEqualTo(SmtpReply.of(452, "4.2.2", "mailbox full try later"));
    }

    @Test
    void codesOutsideTheRangeAreNotReplies() {
        assertThat(RemoteReplies.parse(199, List.of("199 hm"))).isNull();
        assertThat(RemoteReplies.parse(600, List.of("600 hm"))).isNull();
    }

    @Test
    void bareCodeAndControlCharacters() {
        assertThat(RemoteReplies.parse(250, List.of("250"))).isEqualTo(SmtpReply.of(250, null, ""));
        assertThat(RemoteReplies.parse(250, List.of("250 a\tb"))).isEqualTo(SmtpReply.of(250, null, "a b"));
    }
}
