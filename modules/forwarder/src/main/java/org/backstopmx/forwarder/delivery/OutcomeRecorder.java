package org.backstopmx.forwarder.delivery;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.Metrics.BounceSuppression;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.forwarder.FailurePolicy;
import org.backstopmx.forwarder.dsn.DsnAction;
import org.backstopmx.forwarder.dsn.DsnComposer;
import org.backstopmx.forwarder.dsn.DsnRecipient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place an outcome becomes a state change and a DSN (like Postfix's {@code qmgr_defer} and
 * {@code qmgr_bounce}): each recipient's next state comes from {@link RetryPolicy}; failed and expired recipients
 * (and, when {@code delivery.delay-warning} is set, those crossing it) get one DSN per message, queued durably
 * <em>before</em> their outcome is recorded, so a crash can repeat a DSN but never lose one. A sender who may be
 * forged gets none ({@link BackscatterGuard}): the DSN is counted and logged as suppressed instead.
 *
 * <p>Moves leased recipients to DELIVERED, DEFERRED, FAILED or EXPIRED (or HELD at the end of their lifetime, with
 * {@code queue.at-expiry: hold}: no DSN then, and a WARN line says how to hand the mail over), each as a compare-and-set in the queue. A DSN
 * that cannot be queued leaves its failed recipients leased (they are tried again when the lease ends); outcomes that
 * cannot be recorded are logged and come due again when their lease ends. Nothing here throws for a queue failure.
 *
 * <p>Thread-safe: no state of its own beyond what it is given.
 */
final class OutcomeRecorder {
    private static final Logger LOG = LoggerFactory.getLogger(OutcomeRecorder.class);
    /** One line per message event, keyed by queue id, beside {@link Bouncer}'s. */
    private static final Logger MESSAGE_LOG = LoggerFactory.getLogger("org.backstopmx.queue.MessageLog");

    private final MailQueue queue;
    private final RetryPolicy policy;
    private final Bouncer bouncer;
    private final ForwarderMetrics metrics;
    private final Duration delayWarning;
    private final Clock clock;
    private final Callouts callouts;
    private final BackscatterGuard guard;

    /**
     * @param callouts told what the primary said of each recipient (the recipient cache), or null
     * @param guard    which senders get no DSN (SPF at intake)
     */
    OutcomeRecorder(MailQueue queue, RetryPolicy policy, Bouncer bouncer, ForwarderMetrics metrics,
            Duration delayWarning, Clock clock, Callouts callouts, BackscatterGuard guard) {
        this.guard = guard;
        this.callouts = callouts;
        this.queue = queue;
        this.policy = policy;
        this.bouncer = bouncer;
        this.metrics = metrics;
        this.delayWarning = delayWarning;
        this.clock = clock;
    }

    /**
     * Decides each recipient's next state, queues the DSN the sender is owed, then records the outcomes (one per lease
     * of {@code job}, in its order). Returns how many outcomes were recorded.
     */
    int record(Job job, Envelope envelope, List<DeliveryOutcome> outcomes) {
        Instant now = clock.instant();
        List<RetryPolicy.Decision> decisions = new ArrayList<>();
        List<DsnRecipient> failed = new ArrayList<>();
        List<DsnRecipient> delayed = new ArrayList<>();
        for (int i = 0; i < job.leases().size(); i++) {
            Lease lease = job.leases().get(i);
            DeliveryOutcome outcome = outcomes.get(i);
            RetryPolicy.Decision d = policy.decide(lease.state(), outcome, lease.attempts(), lease.firstQueuedAt(), now);
            decisions.add(d);
            teachCache(job.domain(), lease.address(), outcome);
            if (envelope.isNullSender()) {
                continue;
            }
            if (d.next() == RecipientState.FAILED || d.next() == RecipientState.EXPIRED) {
                if (DsnComposer.wants(lease.dsnNotify(), DsnAction.FAILED)) {
                    failed.add(DsnReport.recipient(lease, outcome, d, DsnAction.FAILED, now, null));
                }
            } else if (d.next() == RecipientState.DEFERRED && crossesDelayWarning(lease, now)
                    && DsnComposer.wants(lease.dsnNotify(), DsnAction.DELAYED)) {
                delayed.add(DsnReport.recipient(lease, outcome, d, DsnAction.DELAYED, now,
                        lease.firstQueuedAt().plus(policy.lifetime())));
            }
        }
        boolean failedNotified = true;
        Optional<BounceSuppression> suppressed = guard.suppression(envelope);
        if (suppressed.isPresent() && (!failed.isEmpty() || !delayed.isEmpty())) {
            // the failures are recorded as always; only the notice to a sender who may be forged is left out
            metrics.bounceSuppressed(suppressed.get());
            MESSAGE_LOG.info("{}: sender {} notification suppressed: from=<{}> spf={} at intake ({})", job.id(),
                    failed.isEmpty() ? "delay" : "non-delivery", envelope.sender(), envelope.spf().keyword(),
                    suppressed.get().tag());
            failed.clear();
            delayed.clear();
        }
        if (!failed.isEmpty()) {
            try {
                bouncer.send(envelope, failed);
                metrics.bounce(DsnAction.FAILED, decisions.stream().anyMatch(d -> d.next() == RecipientState.EXPIRED));
            } catch (QueueException e) {
                failedNotified = false;
                LOG.error("{}: cannot queue the non-delivery notification ({}); its failed recipients stay leased and"
                        + " are tried again", job.id(), e.getMessage());
            }
        }
        if (!delayed.isEmpty()) {
            try {
                bouncer.send(envelope, delayed);
                metrics.bounce(DsnAction.DELAYED, false);
            } catch (QueueException e) {
                LOG.warn("{}: cannot queue the delay notification: {}", job.id(), e.getMessage());
            }
        }
        List<MailQueue.Attempt> batch = new ArrayList<>();
        for (int i = 0; i < job.leases().size(); i++) {
            RetryPolicy.Decision d = decisions.get(i);
            if (!failedNotified && d.next().isFinal() && d.next() != RecipientState.DELIVERED) {
                continue;
            }
            batch.add(new MailQueue.Attempt(job.leases().get(i), outcomes.get(i), d));
        }
        int recorded = 0;
        try {
            List<Boolean> won = queue.recordOutcomes(batch);
            for (int i = 0; i < batch.size(); i++) {
                if (won.get(i)) {
                    recorded++;
                    MailQueue.Attempt o = batch.get(i);
                    if (o.decision().next() == RecipientState.HELD) {
                        LOG.warn("{}: to=<{}> held at the end of its lifetime instead of bouncing (queue.at-expiry:"
                                + " hold); hand it over with 'backstop queue release {}' or return it with"
                                + " 'backstop queue bounce {}'", job.id(), o.lease().address(), job.id(), job.id());
                    }
                    metrics.outcome(job.domain(), o.decision().next(),
                            Duration.between(o.lease().firstQueuedAt(), now));
                }
            }
        } catch (QueueException e) {
            LOG.error("{}: cannot record the outcomes for {} recipients ({}); they come due again when their lease"
                    + " ends", job.id(), batch.size(), e.getMessage());
        }
        return recorded;
    }

    /**
     * Defers, in one transaction, the recipients that came due for a destination that is down: no connection, each on
     * its own backoff. A recipient that this makes final (past its lifetime) or that crosses the delay warning takes
     * {@link #record}'s path, so its sender is told. The caller counts the jobs finished, whatever happens here.
     */
    void deferForDown(List<Job> jobs, DownDestinations.Down down) {
        DeliveryOutcome deferred = FailurePolicy.destinationDown(down.failure(), down.since());
        Instant now = clock.instant();
        List<MailQueue.Attempt> batch = new ArrayList<>();
        try {
            for (Job job : jobs) {
                List<RetryPolicy.Decision> decisions = new ArrayList<>();
                for (Lease l : job.leases()) {
                    decisions.add(policy.decide(l.state(), deferred, l.attempts(), l.firstQueuedAt(), now));
                }
                if (decisions.stream().allMatch(d -> d.next() == RecipientState.DEFERRED)
                        && job.leases().stream().noneMatch(l -> crossesDelayWarning(l, now))) {
                    for (int i = 0; i < decisions.size(); i++) {
                        batch.add(new MailQueue.Attempt(job.leases().get(i), deferred, decisions.get(i)));
                    }
                } else {
                    queue.envelope(job.id())
                            .ifPresent(e -> record(job, e, job.leases().stream().map(l -> deferred).toList()));
                }
            }
            queue.recordOutcomes(batch);
            metrics.deferred(jobs.get(0).domain(), batch.size());
        } catch (QueueException | RuntimeException e) {
            LOG.error("cannot defer {} recipients for {} (down): {}; they come due when their lease ends",
                    batch.size(), jobs.get(0).domain(), e.getMessage());
        }
    }

    /** What the primary said of a recipient feeds the recipient cache: accepted, or refused with 5xx at RCPT. */
    private void teachCache(String domain, String address, DeliveryOutcome outcome) {
        if (callouts == null) {
            return;
        }
        if (outcome instanceof DeliveryOutcome.Delivered) {
            callouts.delivered(domain, address);
        } else if (outcome instanceof DeliveryOutcome.Permanent p && p.stage() == SmtpStage.RCPT && p.reply() != null
                && p.reply().isPermanent()) {
            callouts.refused(domain, address, p.reply());
        }
    }

    /** True once per recipient: at the first deferral at or after {@code delay-warning} in the queue. */
    private boolean crossesDelayWarning(Lease lease, Instant now) {
        if (delayWarning.isZero() || delayWarning.isNegative()) {
            return false;
        }
        Instant at = lease.firstQueuedAt().plus(delayWarning);
        return !now.isBefore(at) && (lease.lastAttemptAt() == null || lease.lastAttemptAt().isBefore(at));
    }
}
