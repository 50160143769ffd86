/**
 * Delivery status notifications (bounces and delay warnings) to the sender of a queued message: RFC 3464
 * {@code message/delivery-status} inside an RFC 6522 {@code multipart/report}, honouring the RFC 3461 DSN parameters
 * ({@code NOTIFY} through {@link org.backstopmx.forwarder.dsn.DsnComposer#wants}, {@code RET}, {@code ENVID},
 * {@code ORCPT}) and marked {@code Auto-Submitted: auto-replied} (RFC 3834).
 *
 * <p>{@link org.backstopmx.forwarder.dsn.DsnComposer} writes the whole message to a stream, reading the original from
 * the spool as it goes, so a report about a large message costs no more memory than one about a small one. The caller
 * decides which recipients to report on (one {@link org.backstopmx.forwarder.dsn.DsnRecipient} each) and queues the
 * result like any received message, from the null sender.
 *
 * <p>Failure modes:
 * <ul>
 *   <li>an error opening or reading the original, or writing the report, is an {@code IOException} with part of a
 *       report written: the caller discards it;</li>
 *   <li>a report to the null sender, or with no recipients, is refused ({@code IllegalArgumentException}): it would
 *       start a bounce loop or say nothing;</li>
 *   <li>an ENVID or ORCPT that is not valid xtext, or decodes to control characters, never reaches a header: the ENVID
 *       is reported as received, the {@code Original-Recipient} field is left out.</li>
 * </ul>
 */
package org.backstopmx.forwarder.dsn;
