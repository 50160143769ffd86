/**
 * Values and interfaces shared by every module of Backstop MX.
 *
 * <p>Owns the vocabulary of the message life-cycle: {@link org.backstopmx.core.QueueId}, {@link org.backstopmx.core.Envelope},
 * {@link org.backstopmx.core.RecipientState} (which alone decides the legal state transitions), {@link org.backstopmx.core.SmtpReply},
 * and the {@link org.backstopmx.core.MailQueue} interface at which the receiving side ({@code smtp-in}) and the delivering side
 * ({@code forwarder}) meet without knowing each other or the storage behind it.
 *
 * <p>The delivering side's vocabulary: {@link org.backstopmx.core.Lease} (a claimed recipient),
 * {@link org.backstopmx.core.DeliveryOutcome} (what an attempt came to, with the reply, host and
 * {@link org.backstopmx.core.SmtpStage}), and {@link org.backstopmx.core.RetryPolicy}, the pure function that maps an
 * outcome to the recipient's next state and next attempt time. Nothing here moves a state by itself: the queue applies
 * a {@code RetryPolicy.Decision} in {@link org.backstopmx.core.MailQueue#recordOutcome}.
 *
 * <p>{@link org.backstopmx.core.Liveness} is how every background loop of the process (in the queue, the forwarder and
 * the app) reports that it still turns and what it failed with, so that a failure is logged once, a loop always goes
 * on, and one that cannot makes {@code /health/live} fail.
 *
 * <p>{@link org.backstopmx.core.DomainGauges} are the queue's per-domain gauges (Micrometer), which either queue feeds
 * with its figures on a refresher thread of their own, so that both report them under the same names and labels.
 *
 * <p>Nothing here does I/O but logging; failure modes are described on the interfaces.
 */
package org.backstopmx.core;
