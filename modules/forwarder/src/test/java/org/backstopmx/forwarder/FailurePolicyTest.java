package org.backstopmx.forwarder;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.forwarder.smtp.RecipientFact;
import org.backstopmx.forwarder.smtp.SessionFailure;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every row of the failure policy: what happened, and what it must mean. */
class FailurePolicyTest {
    private static final String HOST = "mx.example.org[192.0.2.1]";
    private static final Instant SINCE = Instant.parse("2026-01-01T00:00:00Z");

    private static final EnvelopeRecipient RCPT = EnvelopeRecipient.of("rcpt@example.org");

    private static SmtpReply reply(int code, String enhanced) {
        return new SmtpReply(code, enhanced, "text");
    }

    private static Supplier<DeliveryOutcome> answered(int code, String enhanced, SmtpStage stage) {
        return () -> FailurePolicy.outcome(HOST, new RecipientFact.Answered(RCPT, reply(code, enhanced), stage));
    }

    private static Supplier<DeliveryOutcome> unsettled(SmtpReply reply, SmtpStage stage, String detail) {
        return () -> FailurePolicy.outcome(HOST, new RecipientFact.Unsettled(RCPT,
                new SessionFailure(reply, stage, detail)));
    }

    /** The kind of outcome, and the status a DSN would give it. */
    static Stream<Arguments> outcomes() {
        DeliveryOutcome down = new DeliveryOutcome.Transient(null, HOST, SmtpStage.CONNECT, "connection refused");
        return Stream.of(
                row("550 5.1.1 at RCPT fails for good", () -> FailurePolicy.refused(reply(550, "5.1.1"), HOST,
                        SmtpStage.RCPT), "PERMANENT", "5.1.1"),
                row("552 without enhanced code takes its class", () -> FailurePolicy.refused(reply(552, null), HOST,
                        SmtpStage.DOT), "PERMANENT", "5.0.0"),
                row("451 4.3.0 at MAIL is tried again", () -> FailurePolicy.refused(reply(451, "4.3.0"), HOST,
                        SmtpStage.MAIL), "TRANSIENT", "4.3.0"),
                row("452 without enhanced code takes its class", () -> FailurePolicy.refused(reply(452, null), HOST,
                        SmtpStage.RCPT), "TRANSIENT", "4.0.0"),
                row("a 2xx where it makes no sense is tried again", () -> FailurePolicy.refused(reply(250, null), HOST,
                        SmtpStage.DATA), "TRANSIENT", "2.0.0"),
                row("250 after the dot delivers", () -> FailurePolicy.afterDot(reply(250, "2.0.0"), HOST),
                        "DELIVERED", "2.0.0"),
                row("554 after the dot fails", () -> FailurePolicy.afterDot(reply(554, "5.7.1"), HOST),
                        "PERMANENT", "5.7.1"),
                row("421 ending the session is tried again", () -> FailurePolicy.sessionEnded(reply(421, "4.3.2"),
                        HOST, SmtpStage.RCPT, "RCPT: 421"), "TRANSIENT", "4.3.2"),
                row("a timeout is tried again, no answer from host", () -> FailurePolicy.sessionEnded(null, HOST,
                        SmtpStage.DOT, "read timed out"), "TRANSIENT", "4.4.1"),
                row("a failed TLS handshake is tried again", () -> FailurePolicy.sessionEnded(null, HOST,
                        SmtpStage.STARTTLS, "TLS handshake failed"), "TRANSIENT", "4.4.1"),
                row("larger than SIZE fails locally", () -> FailurePolicy.tooLarge(HOST, 2000, 1000),
                        "PERMANENT", "5.3.4"),
                row("SMTPUTF8 needed and not offered fails locally", () -> FailurePolicy.lacksExtension(HOST,
                        org.backstopmx.core.MailExtension.SMTPUTF8), "PERMANENT", "5.6.7"),
                row("8-bit content without 8BITMIME fails locally", () -> FailurePolicy.lacksExtension(HOST,
                        org.backstopmx.core.MailExtension.EIGHTBITMIME), "PERMANENT", "5.6.3"),
                row("DNS SERVFAIL defers", () -> FailurePolicy.routeDeferred((Route.Defer) FailurePolicy.dnsFailure(
                        "DNS MX lookup failed")), "TRANSIENT", "4.4.3"),
                row("NXDOMAIN of a bounce's destination fails", () -> FailurePolicy.routeFailed(
                        (Route.Fail) FailurePolicy.Unroutable.NO_SUCH_DOMAIN.route(false, "x")), "PERMANENT", "5.1.2"),
                row("NXDOMAIN of a served domain defers", () -> FailurePolicy.routeDeferred(
                        (Route.Defer) FailurePolicy.Unroutable.NO_SUCH_DOMAIN.route(true, "x")), "TRANSIENT", "4.4.4"),
                row("null MX of a bounce's destination fails", () -> FailurePolicy.routeFailed(
                        (Route.Fail) FailurePolicy.Unroutable.NULL_MX.route(false, "x")), "PERMANENT", "5.1.10"),
                row("no MX nor address of a bounce's destination fails", () -> FailurePolicy.routeFailed(
                        (Route.Fail) FailurePolicy.Unroutable.NO_HOST.route(false, "x")), "PERMANENT", "5.4.4"),
                row("a loop for a bounce's destination fails", () -> FailurePolicy.routeFailed(
                        (Route.Fail) FailurePolicy.Unroutable.LOOP.route(false, "x")), "PERMANENT", "5.4.6"),
                row("a loop for a served domain defers", () -> FailurePolicy.routeDeferred(
                        (Route.Defer) FailurePolicy.Unroutable.LOOP.route(true, "x")), "TRANSIENT", "4.4.6"),
                row("a host without an address defers", () -> FailurePolicy.noAddress("mx has no address"),
                        "TRANSIENT", "4.4.3"),
                row("a destination down defers with its last failure", () -> FailurePolicy.destinationDown(down,
                        SINCE), "TRANSIENT", "4.4.1"),
                row("a local error in a probe is tried again", () -> FailurePolicy.localError(
                        new IllegalStateException("bug")), "TRANSIENT", "4.4.1"),
                row("an admin bounce fails", FailurePolicy::returnedByAdmin, "PERMANENT", "5.0.0"),
                // what the SMTP client reports, as facts
                row("fact: 250 after the dot delivers", answered(250, "2.0.0", SmtpStage.DOT), "DELIVERED", "2.0.0"),
                row("fact: 552 after the dot fails", answered(552, "5.3.4", SmtpStage.DOT), "PERMANENT", "5.3.4"),
                row("fact: 451 after the dot is tried again", answered(451, null, SmtpStage.DOT), "TRANSIENT",
                        "4.0.0"),
                row("fact: 553 to MAIL fails", answered(553, "5.7.1", SmtpStage.MAIL), "PERMANENT", "5.7.1"),
                row("fact: 450 to RCPT is tried again", answered(450, "4.2.1", SmtpStage.RCPT), "TRANSIENT", "4.2.1"),
                row("fact: 550 to RCPT fails", answered(550, "5.1.1", SmtpStage.RCPT), "PERMANENT", "5.1.1"),
                row("fact: 554 to DATA fails", answered(554, null, SmtpStage.DATA), "PERMANENT", "5.0.0"),
                row("fact: 250 to DATA (no 354) is tried again", answered(250, null, SmtpStage.DATA), "TRANSIENT",
                        "2.0.0"),
                row("fact: over the announced SIZE fails", () -> FailurePolicy.outcome(HOST,
                        new RecipientFact.OverSizeLimit(RCPT, 2000, 1000)), "PERMANENT", "5.3.4"),
                row("fact: SMTPUTF8 needed and not offered fails", () -> FailurePolicy.outcome(HOST,
                        new RecipientFact.LacksExtension(RCPT, org.backstopmx.core.MailExtension.SMTPUTF8)),
                        "PERMANENT", "5.6.7"),
                row("fact: 421 mid-session is tried again", unsettled(reply(421, "4.4.2"), SmtpStage.RCPT,
                        "RCPT: 421"), "TRANSIENT", "4.4.2"),
                row("fact: connection refused is tried again", unsettled(null, SmtpStage.CONNECT,
                        "connection refused"), "TRANSIENT", "4.4.1"),
                row("fact: TLS handshake failure is tried again", unsettled(null, SmtpStage.STARTTLS,
                        "TLS handshake failed: x"), "TRANSIENT", "4.4.1"),
                row("fact: a greeting refused with 554 is tried again", unsettled(reply(554, "5.3.2"),
                        SmtpStage.GREETING, "greeting refused"), "TRANSIENT", "5.3.2"),
                row("fact: a session that could not open", () -> FailurePolicy.sessionFailed(HOST,
                        new SessionFailure(null, SmtpStage.GREETING, "read timed out")), "TRANSIENT", "4.4.1"),
                row("fact: the stored message could not be read is tried again", () -> FailurePolicy.sessionFailed(
                        HOST, new SessionFailure(null, SmtpStage.DATA, "reading the stored message failed", true)),
                        "TRANSIENT", "4.4.1"));
    }

    private static Arguments row(String name, Supplier<DeliveryOutcome> what, String kind, String status) {
        return Arguments.of(name, what, kind, status);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("outcomes")
    void meansWhatItSays(String name, Supplier<DeliveryOutcome> what, String kind, String status) {
        DeliveryOutcome outcome = what.get();
        assertThat(outcome.kind()).isEqualTo(kind);
        if (!"DELIVERED".equals(kind)) {
            assertThat(FailurePolicy.dsnStatus(outcome)).isEqualTo(status);
        }
        if (outcome.reply() != null && outcome.reply().enhanced() != null) {
            assertThat(outcome.reply().enhanced().charAt(0) - '0').isEqualTo(outcome.reply().code() / 100);
        }
    }

    static Stream<Arguments> sessionRules() {
        return Stream.of(
                Arguments.of("421 ends the session", reply(421, "4.3.2"), true, false),
                Arguments.of("450 does not end the session", reply(450, null), false, false),
                Arguments.of("550 to EHLO falls back to HELO", reply(550, null), false, true),
                Arguments.of("502 to EHLO falls back to HELO", reply(502, "5.5.1"), false, true),
                Arguments.of("451 to EHLO does not fall back", reply(451, null), false, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sessionRules")
    void sessionRules(String name, SmtpReply reply, boolean ends, boolean helo) {
        assertThat(FailurePolicy.endsSession(reply)).isEqualTo(ends);
        assertThat(FailurePolicy.fallsBackToHelo(reply)).isEqualTo(helo);
    }

    static Stream<Arguments> otherRules() {
        DeliveryOutcome noReplyAtMail = new DeliveryOutcome.Transient(null, HOST, SmtpStage.MAIL, "lost");
        DeliveryOutcome replyAtMail = new DeliveryOutcome.Transient(reply(451, null), HOST, SmtpStage.MAIL);
        DeliveryOutcome noReplyAtRcpt = new DeliveryOutcome.Transient(null, HOST, SmtpStage.RCPT, "lost");
        DeliveryOutcome expiredWithCode = new DeliveryOutcome.Transient(reply(451, "4.3.0"), HOST, SmtpStage.RCPT);
        DeliveryOutcome expiredWithout = new DeliveryOutcome.Transient(reply(451, null), HOST, SmtpStage.RCPT);
        return Stream.of(
                Arguments.of("no reply at MAIL: a dead reused connection", (Supplier<Object>)
                        () -> FailurePolicy.lostBeforeAnyReply(noReplyAtMail), true),
                Arguments.of("a reply at MAIL is the server's answer", (Supplier<Object>)
                        () -> FailurePolicy.lostBeforeAnyReply(replyAtMail), false),
                Arguments.of("no reply at RCPT is not before any reply", (Supplier<Object>)
                        () -> FailurePolicy.lostBeforeAnyReply(noReplyAtRcpt), false),
                Arguments.of("a body that could not be read is a local failure, at QUEUE", (Supplier<Object>)
                        () -> FailurePolicy.sessionFailed(HOST, new SessionFailure(null, SmtpStage.DATA, "x", true))
                                .stage(), SmtpStage.QUEUE),
                Arguments.of("so it is local", (Supplier<Object>) () -> FailurePolicy.isLocal(
                        FailurePolicy.sessionFailed(HOST, new SessionFailure(null, SmtpStage.DATA, "x", true))), true),
                Arguments.of("a write that failed while the body went out is not", (Supplier<Object>)
                        () -> FailurePolicy.isLocal(FailurePolicy.sessionFailed(HOST, new SessionFailure(null,
                                SmtpStage.DATA, "connection reset"))), false),
                Arguments.of("a host reached and failed marks it down", (Supplier<Object>)
                        () -> FailurePolicy.marksDestinationDown(true), true),
                Arguments.of("DNS alone does not mark it down", (Supplier<Object>)
                        () -> FailurePolicy.marksDestinationDown(false), false),
                Arguments.of("expired keeps its last enhanced code", (Supplier<Object>)
                        () -> FailurePolicy.expiredStatus(expiredWithCode), "4.3.0"),
                Arguments.of("expired without one is 4.4.7", (Supplier<Object>)
                        () -> FailurePolicy.expiredStatus(expiredWithout), "4.4.7"),
                Arguments.of("a failed recipient without reply is 5.0.0", (Supplier<Object>)
                        () -> FailurePolicy.replyStatus(null, true), "5.0.0"),
                Arguments.of("a delayed recipient without reply is 4.0.0", (Supplier<Object>)
                        () -> FailurePolicy.replyStatus(null, false), "4.0.0"),
                Arguments.of("a reply without enhanced code takes its class", (Supplier<Object>)
                        () -> FailurePolicy.replyStatus(reply(554, null), true), "5.0.0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("otherRules")
    void otherRules(String name, Supplier<Object> rule, Object expected) {
        assertThat(rule.get()).isEqualTo(expected);
    }
}
