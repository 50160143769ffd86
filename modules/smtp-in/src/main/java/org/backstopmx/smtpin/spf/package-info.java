/**
 * SPF (RFC 7208) at MAIL FROM, with Apache James' jSPF: the check ({@link org.backstopmx.smtpin.spf.SpfCheck}, its
 * DNS in {@link org.backstopmx.smtpin.spf.SpfDns}), what it found and the headers that tell the primary
 * ({@link org.backstopmx.smtpin.spf.SpfVerdict}: {@code Received-SPF:}, {@code Authentication-Results:}), and the
 * removal of forged {@code Authentication-Results:} fields that claim our authserv-id
 * ({@link org.backstopmx.smtpin.spf.AuthResultsFilter}). The hook that runs the check and the policy of
 * {@code screen.spf} (refusals with {@code enforce}) are {@code org.backstopmx.smtpin.SpfHook}; the result goes into the
 * message's envelope, where the forwarder reads it before it bounces.
 *
 * <p>It moves no life-cycle state. Failure modes: nothing here throws for DNS or a record; a query that times out or
 * fails is temperror (retried by the sender when enforced, tagged otherwise), a broken record or too many lookups
 * permerror. A jSPF failure of its own is logged and counted as temperror.
 */
package org.backstopmx.smtpin.spf;
