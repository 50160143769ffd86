package org.backstopmx.testkit;

import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.RetryPolicy;

/**
 * A real {@link MailQueue} (the H2 one, in practice) with faults put in its way: the next calls of a method throw
 * what they are told (an {@link Error} included, which no queue would throw on purpose), or stall inside the call until
 * released, as a thread stuck in the database would. Every other call goes straight through. Thread-safe.
 */
public final class FaultyMailQueue implements MailQueue {
    /** The calls a fault can be put on. */
    public enum Call { LEASE_DUE, RECORD_OUTCOMES, NEXT_DUE, ENVELOPE, FLUSH, RENEW_LEASES }

    private final MailQueue real;
    private final Map<Call, Deque<Fault>> faults = new EnumMap<>(Call.class);
    private final Map<Call, AtomicInteger> faulted = new EnumMap<>(Call.class);

    private interface Fault {
        void hit() throws Throwable;
    }

    public FaultyMailQueue(MailQueue real) {
        this.real = real;
        for (Call c : Call.values()) {
            faults.put(c, new ArrayDeque<>());
            faulted.put(c, new AtomicInteger());
        }
    }

    /** The next {@code times} calls of {@code call} throw what {@code failure} makes, before reaching the queue. */
    public FaultyMailQueue failNext(Call call, int times, Supplier<? extends Throwable> failure) {
        synchronized (faults) {
            for (int i = 0; i < times; i++) {
                faults.get(call).add(() -> {
                    throw failure.get();
                });
            }
        }
        return this;
    }

    /**
     * The next call of {@code call} waits until {@code release} opens (a minute at most), then goes through; {@code
     * entered} opens when it starts waiting.
     */
    public FaultyMailQueue stallNext(Call call, CountDownLatch entered, CountDownLatch release) {
        synchronized (faults) {
            faults.get(call).add(() -> {
                entered.countDown();
                release.await(1, TimeUnit.MINUTES);
            });
        }
        return this;
    }

    /** The next call of {@code call} opens {@code entered} as it starts, and goes through (to stop something then). */
    public FaultyMailQueue announceNext(Call call, CountDownLatch entered) {
        synchronized (faults) {
            faults.get(call).add(entered::countDown);
        }
        return this;
    }

    /** How many faults (announcements included) {@code call} has met so far. */
    public int faulted(Call call) {
        return faulted.get(call).get();
    }

    private void maybeFail(Call call) throws QueueException {
        Fault f;
        synchronized (faults) {
            f = faults.get(call).poll();
        }
        if (f == null) {
            return;
        }
        faulted.get(call).incrementAndGet();
        try {
            f.hit();
        } catch (QueueException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public List<Lease> leaseDue(int max, Duration leaseTime, Set<String> skip) throws QueueException {
        maybeFail(Call.LEASE_DUE);
        return real.leaseDue(max, leaseTime, skip);
    }

    @Override
    public List<Boolean> recordOutcomes(List<Attempt> outcomes) throws QueueException {
        maybeFail(Call.RECORD_OUTCOMES);
        return real.recordOutcomes(outcomes);
    }

    @Override
    public Optional<Instant> nextDue() throws QueueException {
        maybeFail(Call.NEXT_DUE);
        return real.nextDue();
    }

    @Override
    public Optional<Envelope> envelope(QueueId id) {
        try {
            maybeFail(Call.ENVELOPE);
        } catch (QueueException e) {
            throw new IllegalStateException(e);
        }
        return real.envelope(id);
    }

    @Override
    public int flush(String domain) throws QueueException {
        maybeFail(Call.FLUSH);
        return real.flush(domain);
    }

    // ------------------------------------------------------------------------------------- straight through

    @Override
    public IncomingMessage receive(QueueId id) throws QueueException {
        return real.receive(id);
    }

    @Override
    public boolean hasRoomFor(long expectedSize) {
        return real.hasRoomFor(expectedSize);
    }

    @Override
    public List<QueuedMessage> list(int limit) {
        return real.list(limit);
    }

    @Override
    public Optional<QueuedMessage> find(QueueId id) {
        return real.find(id);
    }

    @Override
    public InputStream openBody(QueueId id) throws QueueException {
        return real.openBody(id);
    }

    @Override
    public boolean delete(QueueId id) throws QueueException {
        return real.delete(id);
    }

    @Override
    public int releaseLeases(List<Lease> leases) throws QueueException {
        return real.releaseLeases(leases);
    }

    @Override
    public List<Lease> renewLeases(List<Lease> leases, Duration leaseTime) throws QueueException {
        maybeFail(Call.RENEW_LEASES);
        return real.renewLeases(leases, leaseTime);
    }

    @Override
    public boolean recordOutcome(Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision)
            throws QueueException {
        return real.recordOutcome(lease, outcome, decision);
    }

    @Override
    public int recoverExpiredLeases() throws QueueException {
        return real.recoverExpiredLeases();
    }

    @Override
    public Optional<Integer> hold(QueueId id) throws QueueException {
        return real.hold(id);
    }

    @Override
    public Optional<Integer> release(QueueId id) throws QueueException {
        return real.release(id);
    }

    @Override
    public List<Lease> leaseMessage(QueueId id, Duration leaseTime) throws QueueException {
        return real.leaseMessage(id, leaseTime);
    }

    @Override
    public Set<String> pendingDomains() throws QueueException {
        return real.pendingDomains();
    }

    @Override
    public void onArrival(ArrivalListener listener) {
        real.onArrival(listener);
    }

    @Override
    public QueueStats stats() {
        return real.stats();
    }

    @Override
    public void close() {
        real.close();
    }
}
