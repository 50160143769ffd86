/**
 * Values and interfaces shared by every module of Backstop MX.
 *
 * <p>Owns the vocabulary of the message life-cycle: {@link org.backstopmx.core.QueueId}, {@link org.backstopmx.core.Envelope},
 * {@link org.backstopmx.core.RecipientState} (which alone decides the legal state transitions), {@link org.backstopmx.core.SmtpReply},
 * and the {@link org.backstopmx.core.MailQueue} interface at which the receiving side ({@code smtp-in}) and the delivering side
 * ({@code forwarder}) meet without knowing each other or the storage behind it.
 *
 * <p>Nothing here does I/O; failure modes are described on the interfaces.
 */
package org.backstopmx.core;
