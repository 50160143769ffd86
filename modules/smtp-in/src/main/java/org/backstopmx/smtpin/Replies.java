package org.backstopmx.smtpin;

import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.backstopmx.core.SmtpReply;

/**
 * Every reply Backstop sends that James does not word for us, in one place. Texts that need a value (our hostname,
 * a limit) are formatted by the caller with {@link SmtpReply#withText}.
 */
public final class Replies {
    private Replies() {
    }

    // connection level
    public static final SmtpReply TOO_MANY_CONNECTIONS = SmtpReply.of(421, "4.7.0", "Too many connections, try again later");
    public static final SmtpReply TOO_MANY_CONNECTIONS_FROM_IP = SmtpReply.of(421, "4.7.0", "Too many connections from your address, try again later");
    /** To a peer outside {@code smtp.proxy-trusted} on a listener that takes PROXY headers ({@link ProxyHeaderHandler}). */
    public static final SmtpReply PROXY_NOT_TRUSTED = SmtpReply.of(421, "4.7.0", "Connections from your address are not accepted here, try again later");
    public static final SmtpReply IDLE_TIMEOUT = SmtpReply.of(421, "4.4.2", "Timeout exceeded, closing connection");
    public static final SmtpReply TOO_MANY_ERRORS = SmtpReply.of(421, "4.7.0", "Too many errors, closing connection");
    public static final SmtpReply INTERNAL_ERROR = SmtpReply.of(421, "4.3.0", "Internal error, closing connection");
    public static final SmtpReply SHUTTING_DOWN = SmtpReply.of(421, "4.3.2", "Service shutting down, try again later");
    /** A client that talked before the delayed greeting ({@code screen.greet-delay}); the connection is closed. */
    public static final SmtpReply PREGREET = SmtpReply.of(554, "5.5.1", "Protocol error: you talked before the greeting");
    /** A client whose DNS list score reached {@code screen.threshold}; %s are its address and the lists. */
    public static final SmtpReply SCREEN_REJECT = SmtpReply.of(554, "5.7.1", "Service unavailable; client [%s] blocked using %s");
    /** The same with {@code screen.action: tempfail}. */
    public static final SmtpReply SCREEN_TEMPFAIL = SmtpReply.of(450, "4.7.1", "Service unavailable; client [%s] blocked using %s, try again later");
    /** A client or network over a connection limit of {@code screen.rate.*} ({@link ClientRates}); then close. */
    public static final SmtpReply RATE_CONNECTIONS = SmtpReply.of(421, "4.7.0", "Too many connections from your address or network this minute, slow down");
    public static final SmtpReply SYNCHRONIZATION = SmtpReply.of(554, "5.5.0", "Protocol synchronization error: message data sent before the 354 reply");

    // commands
    public static final SmtpReply COMMAND_LINE_TOO_LONG = SmtpReply.of(500, "5.5.2", "Command line too long");
    /** RFC 5321 §2.3.8: CR only before LF; and no other control character has a place in a command. */
    public static final SmtpReply CONTROL_CHARACTER = SmtpReply.of(500, "5.5.2",
            "Syntax error: control character in command");
    public static final SmtpReply COMMAND_UNRECOGNIZED = SmtpReply.of(500, "5.5.2", "Command not recognized");
    public static final SmtpReply COMMAND_FAILED = SmtpReply.of(451, "4.3.0", "Local error processing the command, try again later");
    public static final SmtpReply HELO_SYNTAX = SmtpReply.of(501, "5.5.4", "Syntax: EHLO hostname");
    public static final SmtpReply HELP = SmtpReply.of(214, "2.0.0", "Backstop MX: see RFC 5321");
    public static final SmtpReply VRFY = SmtpReply.of(252, "2.5.2", "Cannot VRFY user, but will accept message for served domains");
    public static final SmtpReply VRFY_SYNTAX = SmtpReply.of(501, "5.5.4", "Syntax: VRFY address");
    public static final SmtpReply EXPN_REFUSED = SmtpReply.of(502, "5.5.1", "EXPN is not available");

    // MAIL
    public static final SmtpReply SIZE_EXCEEDED = SmtpReply.of(552, "5.3.4", "Message size exceeds fixed maximum message size");
    public static final SmtpReply SIZE_SYNTAX = SmtpReply.of(501, "5.5.4", "Syntactically incorrect value for SIZE parameter");
    public static final SmtpReply RET_SYNTAX = SmtpReply.of(501, "5.5.4", "Bad RET parameter: use FULL or HDRS");
    public static final SmtpReply ENVID_SYNTAX = SmtpReply.of(501, "5.5.4", "Bad ENVID parameter");
    public static final SmtpReply BODY_SYNTAX = SmtpReply.of(501, "5.5.4", "Bad BODY parameter: use 7BIT or 8BITMIME");
    /** RFC 5321 §4.1.1.11: a MAIL or RCPT parameter we do not support (and did not advertise); %s is its name. */
    public static final SmtpReply UNSUPPORTED_PARAMETER = SmtpReply.of(555, "5.5.4", "Unsupported option: %s");
    public static final SmtpReply DUPLICATE_PARAMETER = SmtpReply.of(501, "5.5.4", "Parameter given twice: %s");
    public static final SmtpReply INSUFFICIENT_STORAGE = SmtpReply.of(452, "4.3.1", "Insufficient system storage, try again later");
    public static final SmtpReply SMTPUTF8_SYNTAX = SmtpReply.of(501, "5.5.4", "Bad SMTPUTF8 parameter: it takes no value");
    /** RFC 6531 §3.4: UTF-8 in an address without the SMTPUTF8 parameter on MAIL; Postfix's wording. */
    public static final SmtpReply SMTPUTF8_UNDECLARED = SmtpReply.of(553, "5.6.7", "Must declare SMTPUTF8 to send unicode address");
    /** A MAIL from a client or network over a message limit of {@code screen.rate.*} ({@link ClientRates}). */
    public static final SmtpReply RATE_MESSAGES = SmtpReply.of(452, "4.7.1", "Too many messages from your address or network this minute, try again later");
    public static final SmtpReply SENDER_SYNTAX = SmtpReply.of(501, "5.1.7", "Bad sender address syntax");
    /** {@code screen.spf: enforce}, RFC 7372 §3.2: SPF fail; %s are the domain and the client's address. */
    public static final SmtpReply SPF_FAIL = SmtpReply.of(550, "5.7.23", "SPF: %s does not designate %s as a permitted sender");
    /** {@code screen.spf: enforce}, RFC 7372 §3.2: the SPF record could not be fetched now (temperror). */
    public static final SmtpReply SPF_TEMPERROR = SmtpReply.of(451, "4.7.24", "SPF: cannot check %s for %s now (DNS error), try again later");

    // RCPT
    /** The first try of a triplet, or a retry before {@code screen.greylist-delay} ({@link Greylisting}). */
    public static final SmtpReply GREYLISTED = SmtpReply.of(450, "4.7.1", "Greylisted: this sender is new here, try again in a few minutes");
    public static final SmtpReply RELAY_DENIED = SmtpReply.of(550, "5.7.1", "Relay access denied");
    public static final SmtpReply USER_UNKNOWN = SmtpReply.of(550, "5.1.1", "Recipient address rejected: user unknown");
    /** recipient-check: callout: the primary refused the address; %s is its reply text. */
    public static final SmtpReply USER_UNKNOWN_AT_PRIMARY = SmtpReply.of(550, "5.1.1", "%s");
    /**
     * recipient-check: callout: the address is not known and the primary cannot be asked now (Postfix's
     * {@code unverified_recipient_tempfail_action}); %s is the domain.
     */
    public static final SmtpReply RECIPIENT_UNVERIFIED = SmtpReply.of(450, "4.1.1", "Recipient address not verified: the mail server for %s cannot be asked now, try again later");
    public static final SmtpReply RECIPIENT_SYNTAX = SmtpReply.of(501, "5.1.3", "Bad recipient address syntax");
    /** The capability rule: the primary of the recipient's domain does not offer SMTPUTF8 and the address needs it. */
    /**
     * Standby mode ({@code accept: when-primary-down}) while the domain's primary answers: the sender's MTA keeps the
     * mail and goes back to the primary; the text names it (domain, then primary) so a postmaster sees why.
     */
    public static final SmtpReply STANDBY = SmtpReply.of(450, "4.7.1", "Mail for %s is taken by its primary %s now; this backup MX takes it only while the primary is down, try again later");
    public static final SmtpReply PRIMARY_LACKS_SMTPUTF8 = SmtpReply.of(553, "5.6.7", "The mail server for %s does not support SMTPUTF8");
    /** The capability rule for sizes: larger than the SIZE the primary of the recipient's domain advertised. */
    public static final SmtpReply SIZE_EXCEEDS_PRIMARY = SmtpReply.of(552, "5.3.4", "Message size exceeds the fixed maximum message size of the mail server for %s");
    public static final SmtpReply TOO_MANY_RECIPIENTS = SmtpReply.of(452, "4.5.3", "Too many recipients");
    public static final SmtpReply NOTIFY_SYNTAX = SmtpReply.of(501, "5.5.4", "Bad NOTIFY parameter");
    public static final SmtpReply ORCPT_SYNTAX = SmtpReply.of(501, "5.5.4", "Bad ORCPT parameter");

    // DATA
    public static final SmtpReply DATA_NO_SENDER = SmtpReply.of(503, "5.5.1", "Need MAIL before DATA");
    public static final SmtpReply DATA_NO_RECIPIENTS = SmtpReply.of(554, "5.5.1", "No valid recipients");
    public static final SmtpReply DATA_ARGUMENT = SmtpReply.of(501, "5.5.4", "DATA takes no argument");
    public static final SmtpReply START_DATA = SmtpReply.of(354, null, "End data with <CR><LF>.<CR><LF>");
    public static final SmtpReply QUEUED = SmtpReply.of(250, "2.0.0", "Ok: queued as %s");
    public static final SmtpReply BARE_LINE_ENDING = SmtpReply.of(554, "5.5.2", "Message refused: bare <LF> or <CR> in message data, lines must end with <CR><LF>");
    public static final SmtpReply DATA_LINE_TOO_LONG = SmtpReply.of(554, "5.6.0", "Message refused: a line is longer than %d bytes");
    /** The capability rule at the end of data: UTF-8 in the header section, the primary lacks SMTPUTF8. */
    public static final SmtpReply MESSAGE_NEEDS_SMTPUTF8 = SmtpReply.of(554, "5.6.7", "Message refused: it needs SMTPUTF8, which the mail server for %s does not support");
    /** The capability rule at the end of data: 8-bit content, the primary lacks 8BITMIME (we never downgrade). */
    public static final SmtpReply MESSAGE_NEEDS_8BITMIME = SmtpReply.of(554, "5.6.3", "Message refused: it has 8-bit content, which the mail server for %s does not accept (no 8BITMIME)");
    public static final SmtpReply LOOP_DETECTED = SmtpReply.of(554, "5.4.6", "Too many Received: headers: mail forwarding loop");
    public static final SmtpReply STORAGE_ERROR = SmtpReply.of(451, "4.3.0", "Queue write failed, try again later");
    public static final SmtpReply STORAGE_FULL = SmtpReply.of(452, "4.3.1", "Insufficient system storage, try again later");
    public static final SmtpReply DATA_AFTER_BDAT = SmtpReply.of(503, "5.5.1", "DATA after BDAT: end the message with BDAT LAST, or RSET");

    // BDAT (RFC 3030)
    /** Closes the session: without a chunk size the octets that follow cannot be told from commands (as Postfix). */
    public static final SmtpReply BDAT_SYNTAX = SmtpReply.of(521, "5.5.4", "Syntax: BDAT count [LAST]");
    public static final SmtpReply BDAT_NO_SENDER = SmtpReply.of(503, "5.5.1", "Need MAIL before BDAT");
    public static final SmtpReply RCPT_AFTER_BDAT = SmtpReply.of(503, "5.5.1", "RCPT after BDAT: end the message with BDAT LAST, or RSET");
    /** A chunk other than the last was stored; %d is its size. */
    public static final SmtpReply CHUNK_RECEIVED = SmtpReply.of(250, "2.0.0", "%d octets received");

    // ETRN (RFC 1985); %s is the domain
    public static final SmtpReply ETRN_NO_HELO = SmtpReply.of(503, "5.5.1", "Send HELO or EHLO first");
    public static final SmtpReply ETRN_IN_TRANSACTION = SmtpReply.of(503, "5.5.1", "MAIL transaction in progress");
    public static final SmtpReply ETRN_SYNTAX = SmtpReply.of(501, "5.5.4", "Syntax: ETRN domain");
    public static final SmtpReply ETRN_QUEUE_NOT_SUPPORTED = SmtpReply.of(458, "4.3.3", "ETRN #queue is not supported, use ETRN domain");
    public static final SmtpReply ETRN_STARTED = SmtpReply.of(250, "2.0.0", "Queuing for node %s started");
    public static final SmtpReply ETRN_NOTHING_WAITING = SmtpReply.of(251, "2.0.0", "No messages waiting for node %s");
    public static final SmtpReply ETRN_UNKNOWN_DOMAIN = SmtpReply.of(459, "4.7.1", "%s: not a domain we hold mail for");
    public static final SmtpReply ETRN_NOT_ALLOWED = SmtpReply.of(459, "4.7.1", "Client host not allowed to flush %s");
    public static final SmtpReply ETRN_UNAVAILABLE = SmtpReply.of(458, "4.3.0", "Unable to queue messages for node %s");

    /** As a James response. */
    public static Response response(SmtpReply reply) {
        return response(reply, false);
    }

    /** As a James response that closes the connection after it is written. */
    public static Response closing(SmtpReply reply) {
        return response(reply, true);
    }

    private static Response response(SmtpReply reply, boolean endSession) {
        String text = reply.enhanced() == null ? reply.text() : reply.enhanced() + " " + reply.text();
        SMTPResponse r = new SMTPResponse(String.valueOf(reply.code()), text);
        r.setEndSession(endSession);
        return r;
    }

    /** As a hook result: OK for 2xx, DENYSOFT for 4xx, DENY for 5xx. */
    public static HookResult hookResult(SmtpReply reply) {
        HookReturnCode code = reply.isPositive() ? HookReturnCode.ok()
                : reply.isTransient() ? HookReturnCode.denySoft() : HookReturnCode.deny();
        return HookResult.builder()
                .hookReturnCode(code)
                .smtpReturnCode(String.valueOf(reply.code()))
                .smtpDescription(reply.enhanced() == null ? reply.text() : reply.enhanced() + " " + reply.text())
                .build();
    }
}
