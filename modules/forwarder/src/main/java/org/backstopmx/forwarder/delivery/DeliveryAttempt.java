package org.backstopmx.forwarder.delivery;

import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.forwarder.FailurePolicy;
import org.backstopmx.forwarder.smtp.RelayClient;
import org.backstopmx.forwarder.smtp.RelayMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job over one session: checks that the job is still worth trying (lease left, message still queued, destination
 * not down), takes the worker's session or a parked one or opens a new one, relays the message, and hands every
 * recipient's outcome to the {@link OutcomeRecorder}. A session that opens marks the destination up (and flushes it);
 * one that cannot be opened marks it down when a host was reached.
 *
 * <p>A delivery cut short because the stored message could not be read is a local failure
 * ({@link FailurePolicy#bodyUnreadable}): logged here with the queue id, retried soon, never held against the
 * destination.
 *
 * <p>Moves no state itself: the recorder does. A reused session found dead before any reply is replaced once by a
 * fresh one (not the recipients' fault). A job whose lease was lost, or lasts less than until its next renewal
 * ({@link LeaseKeeper}), is left alone: its recipients come due again. Thread-safe: no state of its own; each call runs in one worker.
 */
final class DeliveryAttempt {
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryAttempt.class);
    private final MailQueue queue;
    private final Connector connector;
    private final ConnectionCache cache;
    private final DownDestinations down;
    private final OutcomeRecorder recorder;
    private final ForwarderMetrics metrics;
    private final Clock clock;
    private final LeaseKeeper leases;

    /** @param leases says whether a job's lease still holds long enough to start it */
    DeliveryAttempt(MailQueue queue, Connector connector, ConnectionCache cache, DownDestinations down,
            OutcomeRecorder recorder, ForwarderMetrics metrics, Clock clock, LeaseKeeper leases) {
        this.leases = leases;
        this.queue = queue;
        this.connector = connector;
        this.cache = cache;
        this.down = down;
        this.recorder = recorder;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** As {@link #deliver(Job, RelayClient, Executor)}, recording every outcome before it returns. */
    RelayClient deliver(Job job, RelayClient client) {
        return deliver(job, client, Runnable::run);
    }

    /**
     * Delivers {@code job} over {@code client} (or a parked or new session); returns the session to go on with, or
     * null. The outcomes of a message relayed over a session are recorded on {@code recordOn}, so the session may carry
     * the next message meanwhile ({@link OutcomePipeline}); every other outcome is recorded before this returns.
     */
    RelayClient deliver(Job job, RelayClient client, Executor recordOn) {
        if (!leases.start(job)) {
            LOG.warn("{}: lease for {} recipients to {} lost or nearly over while waiting; they come due again",
                    job.id(), job.leases().size(), job.domain());
            try {
                // given back now rather than at the lease's end, so that another node of a shared queue may take them
                queue.releaseLeases(job.leases());
            } catch (QueueException e) {
                LOG.debug("{}: leases not given back ({}); they run out by themselves", job.id(), e.getMessage());
            }
            return client;
        }
        Optional<Envelope> envelope = queue.envelope(job.id());
        if (envelope.isEmpty()) {
            return client; // deleted meanwhile (admin): the leases are gone with it
        }
        Optional<DownDestinations.Down> isDown = down.down(job.domain());
        if (isDown.isPresent()) {
            DeliveryOutcome deferred = FailurePolicy.destinationDown(isDown.get().failure(), isDown.get().since());
            recorder.record(job, envelope.get(), job.leases().stream().map(l -> deferred).toList());
            return client;
        }
        boolean reused;
        if (client == null || !client.isOpen()) {
            ConnectionCache.closeQuietly(client);
            client = cache.take(job.domain());
            reused = client != null;
        } else {
            reused = true;
        }
        if (client == null) {
            client = openSession(job, envelope.get());
            if (client == null) {
                return null;
            }
        }
        long started = System.nanoTime();
        List<DeliveryOutcome> results = FailurePolicy.outcomes(client.host(), client.send(message(envelope.get(), job)));
        metrics.delivery(System.nanoTime() - started);
        if (reused && results.stream().allMatch(FailurePolicy::lostBeforeAnyReply)) {
            // a parked connection the server had closed meanwhile: not the recipients' fault, try a fresh one
            ConnectionCache.closeQuietly(client);
            client = openSession(job, envelope.get());
            if (client == null) {
                return null;
            }
            results = FailurePolicy.outcomes(client.host(), client.send(message(envelope.get(), job)));
        }
        results.stream().filter(FailurePolicy::isLocal).findFirst().ifPresent(local -> LOG.warn(
                "{}: delivery to {} cut short on our side: {}; its {} recipients are tried again on the queue's short"
                + " retry ({} s at most), not their backoff, and the destination is not marked down", job.id(),
                job.domain(), local.detail(), job.leases().size(),
                org.backstopmx.core.RetryPolicy.LOCAL_RETRY.toSeconds()));
        List<DeliveryOutcome> outcomes = results;
        Envelope env = envelope.get();
        recordOn.execute(() -> recorder.record(job, env, outcomes));
        if (!client.isOpen()) {
            ConnectionCache.closeQuietly(client);
            return null;
        }
        return client;
    }

    /**
     * A new session to the job's destination, marking the destination up (and flushing it if it was down); or, when
     * none opens, null after recording the failure for the job's recipients (and marking the destination down when
     * the policy says so).
     */
    private RelayClient openSession(Job job, Envelope envelope) {
        Connector.Opened opened = connector.open(job.domain());
        if (opened instanceof Connector.Refused refused) {
            if (FailurePolicy.marksDestinationDown(refused.contactedHost())) {
                down.markDown(job.domain(), refused.outcome(), clock.instant());
            }
            recorder.record(job, envelope, job.leases().stream().map(l -> refused.outcome()).toList());
            return null;
        }
        down.answered(job.domain());
        return ((Connector.Session) opened).client();
    }

    private RelayMessage message(Envelope envelope, Job job) {
        List<EnvelopeRecipient> rcpts = job.leases().stream()
                .map(l -> new EnvelopeRecipient(l.address(), l.dsnNotify(), l.orcpt())).toList();
        QueueId id = job.id();
        return RelayMessage.of(envelope, rcpts, () -> {
            try {
                return queue.openBody(id);
            } catch (QueueException e) {
                throw new IOException(e.getMessage(), e);
            }
        });
    }
}
