/**
 * The SMTP front door: an Apache James Protocols 3.8.1 SMTP server on a Netty pipeline of our own.
 *
 * <p>Owns the receiving policy: relay control ({@link org.backstopmx.smtpin.RelayPolicy}), recipient validation
 * ({@link org.backstopmx.smtpin.RecipientDirectory}), the limits (size, recipients, connections, line lengths,
 * idle time, errors), SMTP smuggling protection, loop detection and the {@code Received:} trace header. It moves no
 * recipient state: it hands a complete message to {@link org.backstopmx.core.MailQueue} and answers 250 only after
 * {@link org.backstopmx.core.IncomingMessage#commit} returned, i.e. after the message is fsynced.
 * {@code ETRN} (RFC 1985) is checked and answered here ({@link org.backstopmx.smtpin.EtrnCommand}); whether to flush
 * is decided by the delivering side behind {@link org.backstopmx.core.EtrnService}. Client screening at connect
 * ({@code screen.*}: DNS block and allow lists, the pregreet test) is {@link org.backstopmx.smtpin.ScreenHandler}
 * and {@link org.backstopmx.smtpin.ClientScreen}; a refused client is answered at its commands, never at connect. The
 * rate limits of {@code screen.rate.*} ({@link org.backstopmx.smtpin.ClientRates}) close a connection over them with
 * 421 4.7.0 ({@link org.backstopmx.smtpin.RateLimitHandler}) and refuse a MAIL over them with 452 4.7.1; their counts
 * are in memory, bounded, and start again with a restart.
 * SPF at MAIL FROM ({@code screen.spf}) is {@link org.backstopmx.smtpin.SpfHook} and the package
 * {@link org.backstopmx.smtpin.spf}.
 *
 * <p>What James 3.8.1 gets wrong for this job, and where it is fixed here:
 * <ul>
 *   <li>its default chain accepts postmaster@/abuse@ at any domain: the chain is assembled by hand without that hook
 *       ({@link org.backstopmx.smtpin.SmtpChainFactory});</li>
 *   <li>end of data is any 3-byte line starting with a dot, on LF-split frames (SMTP smuggling): DATA is received by
 *       {@link org.backstopmx.smtpin.DataTransaction}, which ends only on CRLF.CRLF and refuses bare LF / bare CR;</li>
 *   <li>hooks run on the Netty I/O event loop: the framer and the protocol handler run on a separate executor group
 *       ({@link org.backstopmx.smtpin.SmtpServer}), with inbound flow control so slow disks throttle reads;</li>
 *   <li>a DATA line over 8192 bytes is dropped and the message still gets 250: {@link org.backstopmx.smtpin.SmtpLineDecoder}
 *       reports over-long lines and the transaction fails after the final dot;</li>
 *   <li>the idle timeout fires at twice the setting without a reply: {@link org.backstopmx.smtpin.IdleTimeoutHandler};</li>
 *   <li>connection limits close silently: {@link org.backstopmx.smtpin.ConnectionLimiter} answers 421 4.7.0, and
 *       counts a session only until its last reply, so a sender reconnecting at once is not refused for it;</li>
 *   <li>unknown MAIL parameters are ignored and unknown RCPT ones get 504 without an enhanced code: both get
 *       555 5.5.4 ({@link org.backstopmx.smtpin.CommandParameters});</li>
 *   <li>{@code RCPT TO:<Postmaster>} becomes postmaster@localhost and is refused: it goes to {@code smtp.postmaster}
 *       ({@link org.backstopmx.smtpin.Postmaster});</li>
 *   <li>SIZE above 2^31 gets 501 and the oversize reply has no enhanced code: {@link org.backstopmx.smtpin.MailParameters};</li>
 *   <li>reverse DNS on the event loop (Received header, MDC): neither James handler is used;</li>
 *   <li>the JVM does not exit after unbind: {@link org.backstopmx.smtpin.SmtpServer} owns and shuts down every thread;</li>
 *   <li>in-flight sessions are cut off at unbind: they are told 421 4.3.2, and one in the middle of DATA may finish
 *       within a grace first ({@link org.backstopmx.smtpin.ShutdownNotice});</li>
 *   <li>the whole message is buffered in heap: DATA lines go straight into the queue's spool file;</li>
 *   <li>its PROXY protocol support ({@code proxyRequired}) takes a header from any peer, and a connection without
 *       one gets the greeting and is closed only at its first command: {@link org.backstopmx.smtpin.ProxyHeaderHandler}
 *       takes headers only from {@code smtp.proxy-trusted} and starts the session (limits, greeting) after the
 *       header, whose client then stands for the peer everywhere ({@link org.backstopmx.smtpin.ClientAddress}).</li>
 *   <li>there is no BDAT: CHUNKING (RFC 3030) is {@link org.backstopmx.smtpin.BdatCommand}, whose chunk octets the
 *       framer passes on unsplit, into the same spool file with the same checks
 *       ({@link org.backstopmx.smtpin.MessageSpool}).</li>
 * </ul>
 *
 * <p>Its meters (connections, sessions, messages and bytes stored per served domain, refusals by reason) are kept by
 * {@link org.backstopmx.smtpin.SmtpMetrics} in the registry given to {@link org.backstopmx.smtpin.SmtpServer}.
 *
 * <p>Failure modes: storage errors answer 451 4.3.0 / 452 4.3.1 and the session goes on; an unexpected exception in
 * a handler answers 421 4.3.0 and closes the connection; nothing partial is ever queued. A missing or bad PROXY
 * header closes the connection before any session exists. A DNS list that times out or fails counts as not listing
 * the client; a session waits for its lists at most {@code dns.timeout}.
 */
package org.backstopmx.smtpin;
