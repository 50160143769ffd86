package org.backstopmx.testkit;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;

/**
 * A {@link MailQueue} for testing the receiving side on its own: it records committed messages in memory, counts
 * open and aborted ones, and can be told to fail (disk full, database error). The durable H2 queue is tested in its
 * own module and end to end in the app module. It does not deliver: the leasing methods refuse.
 */
public final class RecordingMailQueue implements MailQueue {
    /** A committed message: its envelope and exact body bytes. */
    public record Stored(Envelope envelope, byte[] body) {
    }

    private final List<Stored> stored = new CopyOnWriteArrayList<>();
    private final Map<QueueId, ByteArrayOutputStream> open = new ConcurrentHashMap<>();
    private final AtomicInteger aborted = new AtomicInteger();
    private volatile QueueException.Kind failCommitWith;
    private volatile boolean full;
    private volatile java.util.concurrent.CountDownLatch commitGate;
    private final java.util.concurrent.CountDownLatch commitWaiting = new java.util.concurrent.CountDownLatch(1);

    public List<Stored> stored() {
        return List.copyOf(stored);
    }

    /** Messages received and neither committed nor aborted yet. */
    public int openCount() {
        return open.size();
    }

    public int abortedCount() {
        return aborted.get();
    }

    /** Makes every following commit fail with this kind (null: succeed again). */
    public void failCommitsWith(QueueException.Kind kind) {
        this.failCommitWith = kind;
    }

    /** Makes {@link #hasRoomFor} answer false. */
    public void setFull(boolean isFull) {
        this.full = isFull;
    }

    /** Makes every commit wait for this latch, like a stalled fsync. */
    public void holdCommitsUntil(java.util.concurrent.CountDownLatch gate) {
        this.commitGate = gate;
    }

    /** Counted down when a commit starts waiting at the gate. */
    public java.util.concurrent.CountDownLatch commitWaiting() {
        return commitWaiting;
    }

    @Override
    public IncomingMessage receive(QueueId id) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        open.put(id, body);
        return new IncomingMessage() {
            private boolean done;

            @Override
            public QueueId id() {
                return id;
            }

            @Override
            public OutputStream body() {
                return body;
            }

            @Override
            public void commit(Envelope envelope) throws QueueException {
                java.util.concurrent.CountDownLatch gate = commitGate;
                if (gate != null) {
                    commitWaiting.countDown();
                    try {
                        gate.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                QueueException.Kind fail = failCommitWith;
                if (fail != null) {
                    throw new QueueException(fail, "told to fail");
                }
                done = true;
                open.remove(id);
                stored.add(new Stored(envelope, body.toByteArray()));
            }

            @Override
            public void abort() {
                if (!done) {
                    done = true;
                    open.remove(id);
                    aborted.incrementAndGet();
                }
            }

            @Override
            public void close() {
                abort();
            }
        };
    }

    @Override
    public boolean hasRoomFor(long expectedSize) {
        return !full;
    }

    @Override
    public List<QueuedMessage> list(int limit) {
        List<QueuedMessage> out = new ArrayList<>();
        for (Stored s : stored) {
            if (out.size() >= limit) {
                break;
            }
            out.add(view(s));
        }
        return out;
    }

    private static QueuedMessage view(Stored s) {
        Envelope e = s.envelope();
        List<QueuedRecipient> rcpts = new ArrayList<>();
        e.recipients().forEach(r -> rcpts.add(new QueuedRecipient(r.address(), RecipientState.QUEUED, 0, e.receivedAt(), null)));
        return new QueuedMessage(e.id(), e.receivedAt(), e.size(), e.sender(), e.clientAddress(), rcpts);
    }

    @Override
    public Optional<QueuedMessage> find(QueueId id) {
        return stored.stream().filter(s -> s.envelope().id().equals(id)).findFirst().map(RecordingMailQueue::view);
    }

    @Override
    public Optional<Envelope> envelope(QueueId id) {
        return stored.stream().filter(s -> s.envelope().id().equals(id)).findFirst().map(Stored::envelope);
    }

    @Override
    public InputStream openBody(QueueId id) throws QueueException {
        return stored.stream().filter(s -> s.envelope().id().equals(id)).findFirst()
                .map(s -> (InputStream) new ByteArrayInputStream(s.body()))
                .orElseThrow(() -> new QueueException(QueueException.Kind.STORAGE_ERROR, "no such message " + id));
    }

    @Override
    public boolean delete(QueueId id) {
        return stored.removeIf(s -> s.envelope().id().equals(id));
    }

    /** @throws UnsupportedOperationException always: this queue only records what the receiving side commits */
    @Override
    public List<Lease> leaseDue(int max, java.time.Duration leaseTime, java.util.Set<String> skip) {
        throw new UnsupportedOperationException(
                "RecordingMailQueue records received messages only; test delivery against H2MailQueue");
    }

    /** @throws UnsupportedOperationException always: this queue only records what the receiving side commits */
    @Override
    public List<Lease> renewLeases(List<Lease> leases, java.time.Duration leaseTime) {
        throw new UnsupportedOperationException(
                "RecordingMailQueue records received messages only; test delivery against H2MailQueue");
    }

    /** @throws UnsupportedOperationException always: this queue only records what the receiving side commits */
    @Override
    public int releaseLeases(List<Lease> leases) {
        throw new UnsupportedOperationException(
                "RecordingMailQueue records received messages only; test delivery against H2MailQueue");
    }

    /** @throws UnsupportedOperationException always: this queue only records what the receiving side commits */
    @Override
    public boolean recordOutcome(Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision) {
        throw new UnsupportedOperationException(
                "RecordingMailQueue records received messages only; test delivery against H2MailQueue");
    }

    /** @throws UnsupportedOperationException always: this queue only records what the receiving side commits */
    @Override
    public List<Boolean> recordOutcomes(List<Attempt> outcomes) {
        throw new UnsupportedOperationException(
                "RecordingMailQueue records received messages only; test delivery against H2MailQueue");
    }

    /** Nothing is ever leased here, so nothing expires: 0. */
    @Override
    public int recoverExpiredLeases() {
        return 0;
    }

    /** @throws UnsupportedOperationException always: this queue only records what the receiving side commits */
    @Override
    public int flush(String domain) {
        throw new UnsupportedOperationException(
                "RecordingMailQueue records received messages only; test delivery against H2MailQueue");
    }

    /** @throws UnsupportedOperationException always: this queue only records what the receiving side commits */
    @Override
    public Optional<Integer> hold(QueueId id) {
        throw new UnsupportedOperationException(
                "RecordingMailQueue records received messages only; test queue commands against H2MailQueue");
    }

    /** @throws UnsupportedOperationException always: this queue only records what the receiving side commits */
    @Override
    public Optional<Integer> release(QueueId id) {
        throw new UnsupportedOperationException(
                "RecordingMailQueue records received messages only; test queue commands against H2MailQueue");
    }

    /** @throws UnsupportedOperationException always: this queue only records what the receiving side commits */
    @Override
    public List<Lease> leaseMessage(QueueId id, java.time.Duration leaseTime) {
        throw new UnsupportedOperationException(
                "RecordingMailQueue records received messages only; test delivery against H2MailQueue");
    }

    /** Nothing is delivered from here: the domains of the recorded messages' recipients. */
    @Override
    public java.util.Set<String> pendingDomains() {
        java.util.Set<String> domains = new java.util.TreeSet<>();
        stored.forEach(s -> s.envelope().recipients().forEach(r -> domains.add(r.domain())));
        return domains;
    }

    /** Nothing is ever scheduled here: empty. */
    @Override
    public Optional<java.time.Instant> nextDue() {
        return Optional.empty();
    }

    /** Nothing is delivered from here, so arrivals are not announced. */
    @Override
    public void onArrival(ArrivalListener listener) {
    }

    @Override
    public QueueStats stats() {
        long recipients = stored.stream().mapToLong(s -> s.envelope().recipients().size()).sum();
        return new QueueStats(stored.size(), stored.stream().mapToLong(s -> s.body().length).sum(),
                Map.of(RecipientState.QUEUED, recipients));
    }

    @Override
    public void close() {
    }
}
