/**
 * MTA-STS (RFC 8461), the {@code mta-sts} STARTTLS level: the {@code _mta-sts.<domain>} TXT record
 * ({@link org.backstopmx.forwarder.sts.StsTxtLookup}), the policy fetched over verified HTTPS
 * ({@link org.backstopmx.forwarder.sts.StsPolicyFetcher}) and parsed ({@link org.backstopmx.forwarder.sts.StsPolicy}),
 * kept for its {@code max_age} in memory and in {@code <queue.path>/mta-sts/<domain>.policy}, and applied to each MX
 * host a session goes to ({@link org.backstopmx.forwarder.sts.MtaSts}).
 *
 * <p>It moves no recipient state: it opens (or refuses to open) a {@link org.backstopmx.forwarder.smtp.RelayClient},
 * whose failure {@link org.backstopmx.forwarder.FailurePolicy} judges like any other.
 *
 * <p>Failure modes:
 * <ul>
 *   <li>{@code enforce}: an MX host the policy does not name gets no connection; a named one that fails verified
 *       STARTTLS ends the session; both defer with the reason ({@code sts-mx-mismatch}, {@code name-mismatch},
 *       {@code untrusted}, ...), never plain text, never an early bounce;</li>
 *   <li>{@code testing}: the same failures are counted and logged, and the mail goes over opportunistic TLS;</li>
 *   <li>the policy host unreachable, a TLS failure on it, a status other than 200, a redirect, a body over 64 KiB
 *       or not a policy, the time limit: an unexpired cached policy stays in force; without one the mail goes as
 *       though there were no policy (RFC 8461 §3.3), counted as {@code sts-policy-unavailable}, and the fetch is not
 *       repeated for five minutes unless the TXT id changes;</li>
 *   <li>a TXT lookup that fails or finds nothing: an unexpired cached policy stays in force, else none applies;</li>
 *   <li>a policy file that cannot be written: the policy is kept in memory (logged); one that cannot be read is
 *       ignored and the policy fetched again.</li>
 * </ul>
 */
package org.backstopmx.forwarder.sts;
