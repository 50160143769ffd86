package org.backstopmx.forwarder;

import java.time.Instant;
import java.util.List;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.forwarder.smtp.RecipientFact;
import org.backstopmx.forwarder.smtp.SessionFailure;

/**
 * What every failure of the forwarder means, in one place, like Postfix's {@code smtp_trouble.c}: a remote reply, a
 * session that ended, a route that DNS could not give, a destination that is down, a local condition. Each becomes
 * a {@link DeliveryOutcome} (delivered, try again, fail for good); whether the destination is down follows from
 * {@link #marksDestinationDown}. The SMTP client reports only what happened ({@link RecipientFact},
 * {@link SessionFailure}); {@link #outcome} and {@link #sessionFailed} say what it means. Nothing else in the
 * forwarder branches on a reply code's class or makes up an enhanced status code: the RFC 3463 codes we write
 * ourselves are the constants below.
 *
 * <p>Pure and thread-safe: static functions of what happened.
 */
public final class FailurePolicy {
    /** RFC 3463 enhanced status codes the forwarder writes itself, by what they say. */
    public static final class Status {
        /** Some other permanent failure: a reply without an enhanced code, an admin bounce. */
        public static final String PERMANENT = "5.0.0";
        /** Some other temporary failure: a delayed recipient's reply without one. */
        public static final String TRANSIENT = "4.0.0";
        /** No answer from host: connection refused, timed out, lost. */
        public static final String NO_ANSWER = "4.4.1";
        /** Routing server failure: a DNS lookup failed for now, or a host has no address yet. */
        public static final String DNS_FAILURE = "4.4.3";
        /** Unable to route, for a served domain: it waits for its DNS or a configured route. */
        public static final String UNROUTABLE_FOR_NOW = "4.4.4";
        /** A routing loop, for a served domain. */
        public static final String LOOP_FOR_NOW = "4.4.6";
        /** Delivery time expired. */
        public static final String EXPIRED = "4.4.7";
        /** RFC 7505: the domain accepts no mail (null MX). */
        public static final String NULL_MX = "5.1.10";
        /** Bad destination system address: the domain does not exist. */
        public static final String NO_SUCH_DOMAIN = "5.1.2";
        /** Unable to route: neither MX nor address records. */
        public static final String UNROUTABLE = "5.4.4";
        /** Routing loop detected: we are the domain's best MX. */
        public static final String LOOP = "5.4.6";
        /** Message length exceeds the administrative limit the server announced (RFC 1870 SIZE). */
        public static final String TOO_BIG = "5.3.4";

        private Status() {
        }
    }

    /**
     * Why a domain has no route, with what it means: a permanent status for a bounce's destination, a temporary one
     * for a served domain (we accepted its mail as its backup; it waits for the operator).
     */
    public enum Unroutable {
        NULL_MX(Status.NULL_MX, Status.UNROUTABLE_FOR_NOW),
        NO_SUCH_DOMAIN(Status.NO_SUCH_DOMAIN, Status.UNROUTABLE_FOR_NOW),
        NO_HOST(Status.UNROUTABLE, Status.UNROUTABLE_FOR_NOW),
        LOOP(Status.LOOP, Status.LOOP_FOR_NOW);

        private final String failStatus;
        private final String deferStatus;

        Unroutable(String failStatus, String deferStatus) {
            this.failStatus = failStatus;
            this.deferStatus = deferStatus;
        }

        /** The route for this reason: a deferral for a served domain, else a failure. */
        public Route route(boolean servedDomain, String reason) {
            return servedDomain ? new Route.Defer(deferStatus, reason, true) : new Route.Fail(failStatus, reason);
        }
    }

    private FailurePolicy() {
    }

    /** A DNS lookup that failed for now (SERVFAIL, timeout): the route waits. */
    public static Route dnsFailure(String reason) {
        return new Route.Defer(Status.DNS_FAILURE, reason, false);
    }

    // ------------------------------------------------------------------------------------------ remote replies

    /** What happened to a recipient on a connection to {@code host}, as an outcome. */
    public static DeliveryOutcome outcome(String host, RecipientFact fact) {
        if (fact instanceof RecipientFact.Answered a) {
            return a.stage() == SmtpStage.DOT ? afterDot(a.reply(), host) : refused(a.reply(), host, a.stage());
        }
        if (fact instanceof RecipientFact.OverSizeLimit o) {
            return tooLarge(host, o.size(), o.limit());
        }
        if (fact instanceof RecipientFact.LacksExtension x) {
            return lacksExtension(host, x.extension());
        }
        return sessionFailed(host, ((RecipientFact.Unsettled) fact).failure());
    }

    /** {@link #outcome} for each fact, in order. */
    public static List<DeliveryOutcome> outcomes(String host, List<RecipientFact> facts) {
        return facts.stream().map(f -> outcome(host, f)).toList();
    }

    /**
     * A connection to {@code host} that became unusable: what every recipient not yet settled gets. One that ended
     * because the stored message could not be read is {@link #bodyUnreadable}: not the destination's doing.
     */
    public static DeliveryOutcome sessionFailed(String host, SessionFailure failure) {
        if (failure.local()) {
            return bodyUnreadable(host, failure.detail());
        }
        return sessionEnded(failure.reply(), host, failure.stage(), failure.detail());
    }

    /**
     * What a reply to MAIL, RCPT, DATA or the final dot means for a recipient: 5xx fails for good; 4xx, and a 2xx or
     * 3xx where it makes no sense, is tried again.
     */
    public static DeliveryOutcome refused(SmtpReply reply, String host, SmtpStage stage) {
        return reply.isPermanent()
                ? new DeliveryOutcome.Permanent(reply, host, stage)
                : new DeliveryOutcome.Transient(reply, host, stage);
    }

    /** The reply after the final dot: 250 delivers, anything else is {@link #refused}. */
    public static DeliveryOutcome afterDot(SmtpReply reply, String host) {
        return reply.code() == 250 ? new DeliveryOutcome.Delivered(reply, host, SmtpStage.DOT)
                : refused(reply, host, SmtpStage.DOT);
    }

    /** RFC 5321 §3.8: a 421, at any stage, means the server is closing the connection. */
    public static boolean endsSession(SmtpReply reply) {
        return reply.code() == 421;
    }

    /** RFC 5321 §4.1.1.1: an EHLO refused with 5xx is retried as HELO; a 4xx ends the session. */
    public static boolean fallsBackToHelo(SmtpReply ehlo) {
        return ehlo.isPermanent();
    }

    /**
     * A session that ended (refused greeting, 421, timeout, connection lost, failed handshake, local read error):
     * every recipient not yet finished is tried again; the detail stands in for the reply when there was none.
     */
    public static DeliveryOutcome sessionEnded(SmtpReply reply, String host, SmtpStage stage, String detail) {
        return new DeliveryOutcome.Transient(reply, host, stage, reply == null ? detail : null);
    }

    /** RFC 1870 §6.1: a message larger than the server's announced SIZE is not sent, and fails for good. */
    public static DeliveryOutcome tooLarge(String host, long size, long limit) {
        SmtpReply local = SmtpReply.of(552, Status.TOO_BIG, "message size " + size
                + " exceeds fixed maximum message size " + limit + " of " + host);
        return new DeliveryOutcome.Permanent(local, host, SmtpStage.MAIL);
    }

    /**
     * The server does not offer an extension the message needs (RFC 6531 §3.2 for SMTPUTF8: 5.6.7; 8-bit content
     * without 8BITMIME: 5.6.3, for we never downgrade): nothing is sent, and the message will never go to it.
     */
    public static DeliveryOutcome lacksExtension(String host, MailExtension extension) {
        SmtpReply local = SmtpReply.of(550, extension.enhancedCode(), host + " does not support "
                + extension.keyword() + ", which the message needs");
        return new DeliveryOutcome.Permanent(local, host, SmtpStage.MAIL);
    }

    /**
     * A reused connection that turns out dead before the first reply (all recipients transient at MAIL without a
     * reply): not the recipients' fault; the caller tries a fresh session.
     */
    public static boolean lostBeforeAnyReply(DeliveryOutcome outcome) {
        return outcome instanceof DeliveryOutcome.Transient && outcome.reply() == null
                && outcome.stage() == SmtpStage.MAIL;
    }

    // ------------------------------------------------------------------------------------------ routes, hosts

    /** A route that says "not now" (DNS failure, a served domain without a usable route): tried again. */
    public static DeliveryOutcome routeDeferred(Route.Defer d) {
        return new DeliveryOutcome.Transient(SmtpReply.of(451, d.status(), d.reason()), null, SmtpStage.DNS,
                d.reason());
    }

    /** A route that says "never" (null MX, NXDOMAIN, loop for a bounce's destination): fails for good. */
    public static DeliveryOutcome routeFailed(Route.Fail f) {
        return new DeliveryOutcome.Permanent(SmtpReply.of(550, f.status(), f.reason()), null, SmtpStage.DNS,
                f.reason());
    }

    /** The route's hosts have no address (yet): tried again. */
    public static DeliveryOutcome noAddress(String why) {
        return new DeliveryOutcome.Transient(SmtpReply.of(451, Status.DNS_FAILURE, why), null, SmtpStage.DNS, why);
    }

    /**
     * Whether failing to open a session marks the destination down: only when a host was reached and failed; DNS
     * alone does not blame the destination.
     */
    public static boolean marksDestinationDown(boolean contactedHost) {
        return contactedHost;
    }

    /** What a recipient of a down destination records: the destination's last failure, without a new attempt. */
    public static DeliveryOutcome destinationDown(DeliveryOutcome lastFailure, Instant since) {
        String detail = "destination down since " + since + " (" + lastFailure.describe() + ")";
        return new DeliveryOutcome.Transient(lastFailure.reply(), lastFailure.host(), lastFailure.stage(), detail);
    }

    // ------------------------------------------------------------------------------------------ local conditions

    /** A probe that failed on our side (a bug, no thread): the destination stays down until a probe answers. */
    public static DeliveryOutcome localError(Throwable t) {
        return new DeliveryOutcome.Transient(null, null, SmtpStage.CONNECT, String.valueOf(t));
    }

    /**
     * The attempt was cut short on our side: the stored message could not be read (the queue's database went away
     * mid-read, a spool file is unreadable). A local failure, at {@link SmtpStage#QUEUE}: tried again soon, on the
     * queue's own short retry rather than the recipient's backoff ({@link org.backstopmx.core.RetryPolicy}), and the
     * destination, which did nothing wrong, is not marked down.
     */
    public static DeliveryOutcome bodyUnreadable(String host, String detail) {
        return new DeliveryOutcome.Transient(null, host, SmtpStage.QUEUE, "the stored message could not be read ("
                + detail + ")");
    }

    /** Whether {@code outcome} is a local failure ({@link #bodyUnreadable}): nothing to hold against the destination. */
    public static boolean isLocal(DeliveryOutcome outcome) {
        return outcome instanceof DeliveryOutcome.Transient && outcome.stage() == SmtpStage.QUEUE;
    }

    /** {@code queue bounce ID}: the administrator returns the message to its sender. */
    public static DeliveryOutcome returnedByAdmin() {
        return new DeliveryOutcome.Permanent(null, null, SmtpStage.ADMIN, "returned to the sender by the administrator");
    }

    // ------------------------------------------------------------------------------------------ DSN status

    /**
     * The status a DSN gives a recipient for this outcome: the reply's enhanced code, else its class with
     * {@code .0.0}, else {@link Status#PERMANENT} for a permanent failure and {@link Status#NO_ANSWER} otherwise.
     */
    public static String dsnStatus(DeliveryOutcome outcome) {
        SmtpReply reply = outcome.reply();
        if (reply != null) {
            return classStatus(reply);
        }
        return outcome instanceof DeliveryOutcome.Permanent ? Status.PERMANENT : Status.NO_ANSWER;
    }

    /**
     * The status of a recipient that expired: like Postfix, its last temporary status when the reply had one, else
     * {@link Status#EXPIRED}.
     */
    public static String expiredStatus(DeliveryOutcome lastAttempt) {
        SmtpReply reply = lastAttempt.reply();
        return reply != null && reply.enhanced() != null ? reply.enhanced() : Status.EXPIRED;
    }

    /** The status a reply (or its absence) implies: its enhanced code, its class, or the action's default. */
    public static String replyStatus(SmtpReply reply, boolean failed) {
        if (reply != null) {
            return classStatus(reply);
        }
        return failed ? Status.PERMANENT : Status.TRANSIENT;
    }

    private static String classStatus(SmtpReply reply) {
        return reply.enhanced() != null ? reply.enhanced() : (reply.code() / 100) + ".0.0";
    }
}
