package org.backstopmx.forwarder.delivery;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.time.Duration;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.forwarder.FailurePolicy;
import org.backstopmx.forwarder.RouteResolver;

/**
 * The {@code queue} commands that need the forwarder (like Postfix's {@code postsuper} and {@code postqueue -f}):
 * hold, release, bounce, flush everything, list the destinations that are down.
 *
 * <p>Moves a message's pending recipients to HELD and back (release makes them due now), and, for bounce, leases them
 * and fails them through the {@link OutcomeRecorder}, so the sender gets the DSN a 5xx would have produced. A queue
 * failure is thrown to the command, which reports it; a bounce that could not record every recipient says so and
 * may be run again. Thread-safe: no state of its own.
 */
final class AdminActions {
    private final MailQueue queue;
    private final OutcomeRecorder recorder;
    private final DownDestinations down;
    private final RouteResolver routes;
    private final Duration leaseTime;
    private final Runnable wake;

    AdminActions(MailQueue queue, OutcomeRecorder recorder, DownDestinations down, RouteResolver routes,
            Duration leaseTime, Runnable wake) {
        this.queue = queue;
        this.recorder = recorder;
        this.down = down;
        this.routes = routes;
        this.leaseTime = leaseTime;
        this.wake = wake;
    }

    Optional<Integer> hold(QueueId id) throws QueueException {
        return queue.hold(id);
    }

    Optional<Integer> release(QueueId id) throws QueueException {
        Optional<Integer> released = queue.release(id);
        if (released.orElse(0) > 0) {
            wake.run();
        }
        return released;
    }

    Optional<Integer> bounce(QueueId id) throws QueueException {
        Optional<Envelope> envelope = queue.envelope(id);
        if (envelope.isEmpty()) {
            return Optional.empty();
        }
        List<Lease> leases = queue.leaseMessage(id, leaseTime);
        Map<String, List<Lease>> byDomain = new LinkedHashMap<>();
        for (Lease lease : leases) {
            byDomain.computeIfAbsent(lease.domain(), d -> new ArrayList<>()).add(lease);
        }
        DeliveryOutcome returned = FailurePolicy.returnedByAdmin();
        int failed = 0;
        for (Map.Entry<String, List<Lease>> e : byDomain.entrySet()) {
            List<DeliveryOutcome> outcomes = e.getValue().stream().map(l -> returned).toList();
            failed += recorder.record(new Job(e.getKey(), id, e.getValue()), envelope.get(), outcomes);
        }
        if (failed < leases.size()) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, id + ": " + (leases.size() - failed) + " of "
                    + leases.size() + " recipients could not be returned (see the log); run the command again");
        }
        return Optional.of(failed);
    }

    int flushAll() throws QueueException {
        int pending = 0;
        for (String domain : queue.pendingDomains()) {
            pending += down.flush(domain);
        }
        return pending;
    }

    List<String> downDestinations() throws QueueException {
        Set<String> candidates = new TreeSet<>(routes.servedDomains());
        candidates.addAll(queue.pendingDomains());
        return candidates.stream().filter(down::isDown).toList();
    }
}
