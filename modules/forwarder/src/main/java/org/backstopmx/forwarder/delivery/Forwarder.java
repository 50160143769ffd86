package org.backstopmx.forwarder.delivery;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.Lease;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.SmtpStage;
import org.backstopmx.forwarder.DomainNames;
import org.backstopmx.forwarder.FailurePolicy;
import org.backstopmx.forwarder.MxResolver;
import org.backstopmx.forwarder.RouteResolver;
import org.backstopmx.forwarder.dsn.DsnAction;
import org.backstopmx.forwarder.dsn.DsnComposer;
import org.backstopmx.forwarder.dsn.DsnRecipient;
import org.backstopmx.forwarder.smtp.RecipientOutcome;
import org.backstopmx.forwarder.smtp.RelayClient;
import org.backstopmx.forwarder.smtp.RelayMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivering side: drains the queue to each recipient domain's destination (the primary MX for a served domain,
 * the sender's MX for a bounce), and the one place that turns what happened into recipient outcomes and DSNs.
 *
 * <h2>How work flows</h2>
 * <ol>
 * <li>The scheduler thread claims due recipients from the queue ({@link MailQueue#leaseDue}), at most
 *     {@code maxInFlight} unrecorded at once, and groups them into jobs: one message and its recipients for one
 *     domain.
 * <li>Each domain has a lane: a FIFO of jobs and up to {@code delivery.concurrency} workers, each holding one SMTP
 *     connection and carrying job after job over it (RSET between messages). A worker whose lane runs dry parks its
 *     connection for {@code delivery.connection-reuse-time} so the next message does not pay for a new session.
 * <li>A job's outcomes go through {@link RetryPolicy}; failed and expired recipients (and, when
 *     {@code delivery.delay-warning} is set, those crossing it) get one DSN per message, queued durably
 *     <em>before</em> their outcome is recorded, so a crash can repeat a DSN but never lose one.
 * </ol>
 *
 * <h2>Down and up</h2>
 * When no host of a destination opens a session, the destination is down ({@link DestinationHealth}): its recipients
 * coming due are deferred on their own backoff without a connection, and a probe (connect, EHLO, QUIT) knocks every
 * {@code probe.interval}. When a probe, a delivery or an {@code ETRN} from the primary gets through, the destination
 * is up and its whole queue is made due at once ({@link MailQueue#expedite}), drained at the lane's concurrency.
 *
 * <h2>Failures and stopping</h2>
 * No thread of the forwarder lets a failure end it: the scheduler, the delivery workers and the probes report what
 * went wrong to {@link Liveness} (logged once per run of failures, with its cause), and the scheduler pauses a little
 * before its next turn. A claim cut short gives its leases back, so nothing is left counted as in flight. Nothing
 * interrupts a thread of the forwarder: one interrupted inside H2 has its file channel closed by the JDK, which damages
 * the running database. {@link #close()} raises a flag and signals the scheduler, which stops at its next turn.
 *
 * <h2>Time</h2>
 * Everything reads the injected {@link Clock}. Tests do not start the scheduler thread: they move a clock and call
 * {@link #deliverDue()} and {@link #probeNow()}, which run a round to its end.
 */
public final class Forwarder implements EtrnService, MailQueue.ArrivalListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
    /** The scheduler re-reads the queue at least this often, whatever it was told. */
    private static final Duration MAX_SLEEP = Duration.ofSeconds(5);
    /** A job whose lease ends sooner than this is not started: its recipients come due again. */
    private static final Duration LEASE_MARGIN = Duration.ofSeconds(30);
    /**
     * Jobs (messages) that may wait in one destination's lane, per connection it may open (see
     * {@link #laneCapacity()}): a slow primary with a large backlog holds a bounded share of the claims, and the other
     * destinations' mail keeps flowing.
     */
    static final int LANE_JOBS_PER_CONNECTION = 4;
    /** See {@link #fruitlessSkipAt}: how long mail of another destination may wait behind full lanes, at most. */
    private static final Duration SKIP_CLAIM_INTERVAL = Duration.ofSeconds(1);
    /** How long {@link #close()} waits for running deliveries. */
    static final int CLOSE_GRACE_SECONDS = 5;
    /** How long {@link #close()} waits for the scheduler to finish the queue call it is in. */
    private static final Duration SCHEDULER_STOP_WAIT = Duration.ofSeconds(10);
    /**
     * The longest the scheduler may go without a turn before the process is reported not live: its waits are at most
     * {@link #MAX_SLEEP}, and a queue call waits two minutes at most for a compaction or an fsync.
     */
    public static final Duration SCHEDULER_BOUND = Duration.ofMinutes(5);

    private final ForwarderSettings settings;
    private final MailQueue queue;
    private final RouteResolver routes;
    private final Connector connector;
    private final RetryPolicy policy;
    private final Bouncer bouncer;
    private final DestinationHealth health;
    private final Clock clock;
    private final ForwarderMetrics metrics;
    private final ExecutorService workers;
    private final Map<String, Lane> lanes = new HashMap<>();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int inFlight;
    private boolean wakeRequested;
    /** Destinations skipped by the last claim because their lanes were full (scheduler thread only). */
    private java.util.Set<String> saturated = java.util.Set.of();
    /**
     * When a claim that skipped full lanes last found nothing: such a claim walks the skipped destinations' due
     * recipients in the due index, so it is not repeated within {@link #SKIP_CLAIM_INTERVAL} unless new work arrived.
     */
    private Instant fruitlessSkipAt = Instant.MIN;
    private volatile boolean newWork;
    private volatile boolean closed;
    private Thread scheduler;
    /** Where the workers and the probes report failures: a registry of its own until {@link #start(Liveness)}. */
    private volatile Liveness.Loop deliveryLoop;
    private volatile Liveness.Loop probeLoop;

    public Forwarder(ForwarderSettings settings, MailQueue queue, RouteResolver routes, MxResolver dns,
            RetryPolicy policy, ForwarderMetrics metrics, Clock clock) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.queue = Objects.requireNonNull(queue, "queue");
        this.routes = Objects.requireNonNull(routes, "routes");
        this.connector = new Connector(routes, dns, settings);
        this.policy = Objects.requireNonNull(policy, "policy");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.bouncer = new Bouncer(queue, new DsnComposer(settings.hostname(), settings.bounceSizeLimit(), clock),
                settings.hostname(), clock);
        this.health = new DestinationHealth(settings.probeInterval());
        this.health.listener(metrics::destination);
        this.workers = Executors.newCachedThreadPool(named("backstop-delivery"));
        Liveness unwatched = new Liveness(clock);
        this.deliveryLoop = unwatched.register("backstop-delivery", null);
        this.probeLoop = unwatched.register("backstop-probe", null);
        queue.onArrival(this); // last: the queue may call back from now on
    }

    /**
     * The forwarder of {@code config}: routes from its domains and {@code routes} over {@code dns}, its retry policy
     * and delivery settings, meters in {@code registry}. Not started.
     */
    public static Forwarder of(org.backstopmx.core.config.BackstopConfig config, MailQueue queue, MxResolver dns,
            io.micrometer.core.instrument.MeterRegistry registry, Clock clock) {
        java.util.Random random = new java.util.Random(); // thread-safe: MX shuffling and backoff jitter
        return new Forwarder(ForwarderSettings.from(config), queue, new RouteResolver(config, dns, random), dns,
                new RetryPolicy(config.retry(), config.queue().lifetime(), random),
                new ForwarderMetrics(registry, config.servedDomains()), clock);
    }

    /** The destinations marked down now, among the served domains and those with mail waiting, sorted. */
    public List<String> downDestinations() throws QueueException {
        java.util.Set<String> candidates = new java.util.TreeSet<>(routes.servedDomains());
        candidates.addAll(queue.pendingDomains());
        return candidates.stream().filter(health::isDown).toList();
    }

    /** Starts the scheduler thread, watched by nobody (tests). */
    public void start() {
        start(new Liveness(clock));
    }

    /**
     * Starts the scheduler thread. The scheduler beats in {@code liveness} at every turn (at most
     * {@link #SCHEDULER_BOUND} apart), and the scheduler, the workers and the probes report their failures there.
     */
    public void start(Liveness liveness) {
        lock.lock();
        try {
            if (scheduler != null) {
                throw new IllegalStateException("already started");
            }
            Liveness.Loop loop = liveness.register("backstop-scheduler", SCHEDULER_BOUND);
            deliveryLoop = liveness.register("backstop-delivery", null);
            probeLoop = liveness.register("backstop-probe", null);
            scheduler = named("backstop-scheduler").newThread(() -> schedule(loop));
            scheduler.start();
        } finally {
            lock.unlock();
        }
    }

    /**
     * A configuration reload: takes the served domains, their routes and STARTTLS policies, {@code routes} and
     * {@code self-names} from {@code config}. Attempts under way finish with what they had resolved.
     */
    public void reload(org.backstopmx.core.config.BackstopConfig config) {
        routes.reload(config);
        connector.domainTls(ForwarderSettings.from(config).domainTls());
    }

    /** Asks the scheduler to look at the queue now (new mail, a flush). Cheap; callable from any thread. */
    public void wake() {
        newWork = true;
        lock.lock();
        try {
            wakeRequested = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * New mail for a destination that is down is not tried just to be deferred: it is first due after a first
     * backoff, or as soon as the destination is back (the flush brings it forward). Otherwise it is due at once.
     */
    @Override
    public Instant firstAttempt(String domain, Instant now) {
        return health.isDown(domain) ? policy.firstRetry(now) : now;
    }

    /** Wakes the scheduler for new mail, unless all of it is held for destinations that are down; logs those. */
    @Override
    public void arrived(Envelope envelope) {
        boolean due = false;
        for (EnvelopeRecipient r : envelope.recipients()) {
            Optional<DestinationHealth.Down> down = health.down(r.domain());
            if (down.isEmpty()) {
                due = true;
            } else {
                LOG.info("{}: held to=<{}>: destination {} is down since {} ({}); delivered when it is back",
                        envelope.id(), r.address(), r.domain(), down.get().since(), down.get().failure().describe());
            }
        }
        if (due) {
            wake();
        }
    }

    /** Whether {@code domain}'s destination is marked down. */
    public boolean isDown(String domain) {
        return health.isDown(DomainNames.normalize(domain));
    }

    /**
     * Delivers everything due now and returns when all of it is recorded (including what a flush made due meanwhile).
     * For tests and tools; the running appliance does this in its scheduler thread.
     *
     * @return how many recipients were claimed
     */
    public int deliverDue() throws InterruptedException {
        int total = 0;
        while (true) {
            int n;
            try {
                n = dispatchDue();
            } catch (QueueException e) {
                LOG.error("cannot claim due mail: {}", e.getMessage());
                n = 0;
            }
            if (n != 0) {
                total += Math.max(n, 0);
                continue;
            }
            lock.lock();
            try {
                if (inFlight == 0 && !wakeRequested) {
                    return total;
                }
                wakeRequested = false;
                if (inFlight > 0) {
                    changed.await(1, TimeUnit.SECONDS);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Probes, now, every down destination whose probe is due, and flushes those that answer. Returns the
     * destinations that came up. For tests; the scheduler thread runs probes on its own.
     */
    public List<String> probeNow() {
        List<String> up = new ArrayList<>();
        for (String destination : health.claimProbes(clock.instant())) {
            if (probe(destination)) {
                up.add(destination);
            }
        }
        return up;
    }

    /**
     * Flushes {@code domain}: marks its destination up and makes all its pending mail due now.
     *
     * @return how many of its recipients are pending (0: nothing waiting)
     */
    public int flush(String domain) throws QueueException {
        String d = DomainNames.normalize(domain);
        health.markUp(d, clock.instant());
        int pending = queue.expedite(d);
        if (pending > 0) {
            LOG.info("flushing {}: {} recipients pending", d, pending);
            wake();
        }
        return pending;
    }

    /**
     * ETRN: only a served domain, only from one of the addresses its route resolves to (its primary: nobody else may
     * make us knock on its door) or its {@code etrn-from} list, then {@link #flush}.
     */
    @Override
    public Result etrn(String domain, InetAddress client) {
        String d = DomainNames.normalize(domain);
        if (!routes.isServed(d)) {
            return Result.UNKNOWN_DOMAIN;
        }
        if (!routes.etrnAllowedFrom(d, client)) { // the configured list first: it needs no DNS
            List<InetAddress> primary = connector.primaryAddresses(d);
            if (!primary.contains(client)) {
                LOG.info("ETRN {} from {} refused: not one of its primary's addresses {} nor in its etrn-from", d,
                        client.getHostAddress(), primary.stream().map(InetAddress::getHostAddress).toList());
                return Result.NOT_ALLOWED;
            }
        }
        try {
            int pending = flush(d);
            LOG.info("ETRN {} from {}: {} recipients pending", d, client.getHostAddress(), pending);
            return pending > 0 ? Result.STARTED : Result.NOTHING_WAITING;
        } catch (QueueException e) {
            LOG.error("ETRN {}: cannot flush: {}", d, e.getMessage());
            return Result.UNAVAILABLE;
        }
    }

    // ------------------------------------------------------------------------------------------ admin commands

    /**
     * {@code queue hold ID}: the message's pending recipients are not tried until released (those being tried right
     * now finish their attempt).
     *
     * @return how many recipients were held; empty when no such message is queued
     */
    public Optional<Integer> hold(QueueId id) throws QueueException {
        return queue.hold(id);
    }

    /**
     * {@code queue release ID}: the message's held recipients are due now.
     *
     * @return how many recipients were released; empty when no such message is queued
     */
    public Optional<Integer> release(QueueId id) throws QueueException {
        Optional<Integer> released = queue.release(id);
        if (released.orElse(0) > 0) {
            wake();
        }
        return released;
    }

    /**
     * {@code queue bounce ID}: every pending recipient of the message (held ones included; not those being tried right
     * now) fails with {@code 5.0.0 returned to the sender by the administrator}, and the sender gets the DSN a 5xx from
     * the primary would have produced (NOTIFY and a null sender honoured), queued before the failures are recorded.
     *
     * @return how many recipients were failed; empty when no such message is queued
     */
    public Optional<Integer> bounce(QueueId id) throws QueueException {
        Optional<Envelope> envelope = queue.envelope(id);
        if (envelope.isEmpty()) {
            return Optional.empty();
        }
        List<Lease> leases = queue.leaseMessage(id, settings.leaseTime());
        Map<String, List<Lease>> byDomain = new LinkedHashMap<>();
        for (Lease lease : leases) {
            byDomain.computeIfAbsent(lease.domain(), d -> new ArrayList<>()).add(lease);
        }
        DeliveryOutcome returned = FailurePolicy.returnedByAdmin();
        int failed = 0;
        for (Map.Entry<String, List<Lease>> e : byDomain.entrySet()) {
            List<DeliveryOutcome> outcomes = e.getValue().stream().map(l -> returned).toList();
            failed += record(new Job(e.getKey(), id, e.getValue()), envelope.get(), outcomes);
        }
        if (failed < leases.size()) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, id + ": " + (leases.size() - failed) + " of "
                    + leases.size() + " recipients could not be returned (see the log); run the command again");
        }
        return Optional.of(failed);
    }

    /**
     * {@code queue flush} without a domain: {@link #flush} every domain that has QUEUED or DEFERRED mail (held mail
     * stays held), like Postfix's {@code postqueue -f}.
     *
     * @return how many recipients are pending in those domains
     */
    public int flushAll() throws QueueException {
        int pending = 0;
        for (String domain : queue.pendingDomains()) {
            pending += flush(domain);
        }
        return pending;
    }

    // ---------------------------------------------------------------------------------------------- scheduling

    /**
     * The scheduler thread: probes, claims and hands out until {@link #close()}. Nothing that goes wrong in a turn ends
     * it: the failure goes to {@code loop} (logged once per run, with its cause) and the next turn comes after a pause.
     */
    private void schedule(Liveness.Loop loop) {
        LOG.info("forwarder started: concurrency {} per destination, probe every {}", settings.concurrency(),
                settings.probeInterval());
        probeWaitingDestinations();
        while (!closed) {
            loop.beat();
            try {
                closeStaleConnections();
                for (String destination : health.claimProbes(clock.instant())) {
                    probeSoon(destination);
                }
                if (dispatchDue() == 0) {
                    sleepUntilSomethingHappens();
                }
                loop.succeeded(); // a whole turn: a run of failures ends only when nothing in a turn failed
            } catch (Throwable t) {
                if (closed) {
                    break;
                }
                pause(loop.failed("scheduling deliveries", t));
            }
        }
        loop.stopped();
        LOG.info("forwarder stopped");
    }

    /** Waits {@code pause}, or until {@link #close()}; new mail does not cut it short. */
    private void pause(Duration pause) {
        lock.lock();
        try {
            long nanos = pause.toNanos();
            while (nanos > 0 && !closed) {
                nanos = changed.awaitNanos(nanos);
            }
        } catch (InterruptedException e) {
            // nothing interrupts the scheduler on purpose; the pause is over
        } finally {
            lock.unlock();
        }
    }

    /**
     * At start, each destination with mail waiting is asked once (connect, EHLO, QUIT) whether it answers: a backup MX
     * that restarts (after a crash, an upgrade) may find its primary back, and the mail it deferred, due again only
     * at each recipient's next retry (minutes to an hour away), then goes out at once. One that does not answer is
     * marked down, as a refused delivery would mark it, and probed from then on.
     */
    private void probeWaitingDestinations() {
        java.util.Set<String> waiting;
        try {
            waiting = queue.pendingDomains();
        } catch (QueueException | RuntimeException e) {
            LOG.warn("cannot list the destinations with mail waiting ({}); their mail goes out at its next retry",
                    e.toString());
            return;
        }
        for (String destination : waiting) {
            if (closed) {
                return;
            }
            try {
                workers.execute(() -> probeAtStart(destination));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return; // closing
            }
        }
    }

    private void probeAtStart(String destination) {
        try {
            Optional<DeliveryOutcome> failure = connector.probe(destination);
            if (failure.isEmpty()) {
                LOG.info("destination {} answers at start: its waiting mail goes out now", destination);
                flush(destination);
            } else {
                health.markDown(destination, failure.get(), clock.instant());
            }
            probeLoop.succeeded();
        } catch (Throwable t) {
            probeLoop.failed("probe of " + destination + " at start", t);
        }
    }

    private void probeSoon(String destination) {
        try {
            workers.execute(() -> probe(destination));
        } catch (Throwable t) { // the pool is shut down (closing), or no thread could be started
            health.probeDone(destination);
            throw t;
        }
    }

    private void sleepUntilSomethingHappens() throws QueueException, InterruptedException {
        Instant now = clock.instant();
        Instant until = now.plus(MAX_SLEEP);
        Optional<Instant> due = queue.nextDue();
        // with lanes full, what is due may all be theirs: a finishing job (or new mail) wakes the scheduler instead
        if (due.isPresent() && due.get().isBefore(until) && (saturated.isEmpty() || due.get().isAfter(now))) {
            until = due.get();
        }
        Optional<Instant> probe = health.nextProbe();
        if (probe.isPresent() && probe.get().isBefore(until)) {
            until = probe.get();
        }
        long millis = Duration.between(now, until).toMillis();
        lock.lock();
        try {
            if (!wakeRequested && millis > 0) {
                changed.await(millis, TimeUnit.MILLISECONDS);
            }
            wakeRequested = false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Claims what is due, as far as the in-flight bound allows, and hands it to the lanes. Returns how many were
     * claimed, or -1 after waiting for room: while jobs run, claims are made a batch at a time rather than one per
     * finished job, so the queue sees few large claims.
     */
    private int dispatchDue() throws InterruptedException, QueueException {
        int room;
        lock.lock();
        try {
            room = settings.maxInFlight() - inFlight;
            int worthIt = inFlight == 0 ? 1 : Math.min(settings.leaseBatch(), Math.max(1, settings.maxInFlight() / 4));
            if (room < worthIt) {
                changed.await(1, TimeUnit.SECONDS); // jobs finishing make room
                return -1;
            }
        } finally {
            lock.unlock();
        }
        saturated = saturatedLanes();
        Instant now = clock.instant();
        if (!saturated.isEmpty() && !newWork && now.isBefore(fruitlessSkipAt.plus(SKIP_CLAIM_INTERVAL))) {
            return 0; // nothing but the full lanes' mail was due a moment ago, and no new mail came since
        }
        newWork = false;
        List<Lease> leases = queue.leaseDue(Math.min(room, settings.leaseBatch()), settings.leaseTime(), saturated);
        if (leases.isEmpty() && !saturated.isEmpty()) {
            fruitlessSkipAt = now;
        }
        if (leases.isEmpty()) {
            return 0;
        }
        lock.lock();
        try {
            inFlight += leases.size();
        } finally {
            lock.unlock();
        }
        if (closed) {
            giveBack(leases);
            return 0;
        }
        // leases come grouped by domain; keep messages together within a domain
        Map<String, Map<QueueId, List<Lease>>> byDomain = new LinkedHashMap<>();
        for (Lease l : leases) {
            byDomain.computeIfAbsent(l.domain(), k -> new LinkedHashMap<>())
                    .computeIfAbsent(l.queueId(), k -> new ArrayList<>()).add(l);
        }
        List<Job> jobs = new ArrayList<>();
        byDomain.forEach((domain, ids) -> ids.forEach((id, ls) -> jobs.add(new Job(domain, id, ls))));
        List<Lease> excess = new ArrayList<>();
        int next = 0; // jobs before this one are in a lane, deferred or in excess
        try {
            while (next < jobs.size()) {
                String domain = jobs.get(next).domain();
                int end = next;
                while (end < jobs.size() && jobs.get(end).domain().equals(domain)) {
                    end++;
                }
                List<Job> domainJobs = jobs.subList(next, end);
                Optional<DestinationHealth.Down> down = health.down(domain);
                if (down.isPresent()) {
                    next = end; // holdBack finishes its jobs whatever happens
                    holdBack(domainJobs, down.get());
                    continue;
                }
                int laneRoom = laneRoom(domain);
                for (Job job : domainJobs) {
                    next++; // submit finishes the job itself if it cannot hand it to a lane
                    if (laneRoom-- > 0) {
                        submit(job);
                    } else {
                        excess.addAll(job.leases());
                    }
                }
            }
        } catch (Throwable t) {
            // what was not handed out goes back now, so that it is neither counted in flight nor leased for nothing
            for (Job job : jobs.subList(next, jobs.size())) {
                excess.addAll(job.leases());
            }
            giveBack(excess);
            throw t;
        }
        if (!excess.isEmpty()) {
            giveBack(excess);
        }
        return leases.size() - excess.size();
    }

    /**
     * The destinations skipped by the next claim: those whose lanes could not take a whole claim batch. A busy lane
     * is claimed for only while it has room for a batch, so a single busy destination (a drain) never has claims
     * given back.
     */
    private java.util.Set<String> saturatedLanes() {
        int threshold = Math.max(1, laneCapacity() - settings.leaseBatch());
        java.util.Set<String> full = new java.util.TreeSet<>();
        for (Lane lane : lanes.values()) {
            synchronized (lane) {
                if (lane.jobs.size() >= threshold) {
                    full.add(lane.domain);
                }
            }
        }
        return full;
    }

    /**
     * How many jobs may wait in one lane: {@value #LANE_JOBS_PER_CONNECTION} per connection, at least two claim
     * batches, at most half the claims in flight (so the other half is always there for other destinations).
     */
    private int laneCapacity() {
        int wanted = Math.max(settings.concurrency() * LANE_JOBS_PER_CONNECTION, 2 * settings.leaseBatch());
        return Math.min(Math.max(1, settings.maxInFlight() / 2), wanted);
    }

    private int laneRoom(String domain) {
        Lane lane = lane(domain);
        synchronized (lane) {
            return laneCapacity() - lane.jobs.size();
        }
    }

    /** Claims beyond a lane's room go back to the queue at once, due as they were, without an attempt. */
    private void giveBack(List<Lease> leases) {
        if (leases.isEmpty()) {
            return;
        }
        try {
            queue.releaseLeases(leases);
        } catch (QueueException e) {
            LOG.warn("cannot give back {} claims ({}); they come due when their lease ends", leases.size(),
                    e.getMessage());
        } catch (Throwable t) {
            deliveryLoop.failed("giving back " + leases.size() + " claims (they come due when their lease ends)", t);
        } finally {
            lock.lock();
            try {
                inFlight -= leases.size();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Defers, in one transaction, the recipients that came due for a destination that is down: no connection, each on
     * its own backoff. A recipient that this makes final (past its lifetime) takes the job's ordinary path, so its
     * sender is told.
     */
    private void holdBack(List<Job> jobs, DestinationHealth.Down down) {
        DeliveryOutcome held = FailurePolicy.destinationDown(down.failure(), down.since());
        Instant now = clock.instant();
        List<MailQueue.Outcome> batch = new ArrayList<>();
        try {
            for (Job job : jobs) {
                List<RetryPolicy.Decision> decisions = new ArrayList<>();
                for (Lease l : job.leases()) {
                    decisions.add(policy.decide(l.state(), held, l.attempts(), l.firstQueuedAt(), now));
                }
                if (decisions.stream().allMatch(d -> d.next() == RecipientState.DEFERRED)
                        && job.leases().stream().noneMatch(l -> crossesDelayWarning(l, now))) {
                    for (int i = 0; i < decisions.size(); i++) {
                        batch.add(new MailQueue.Outcome(job.leases().get(i), held, decisions.get(i)));
                    }
                } else {
                    queue.envelope(job.id()).ifPresent(e -> record(job, e, job.leases().stream().map(l -> held).toList()));
                }
            }
            queue.recordOutcomes(batch);
            metrics.deferred(jobs.get(0).domain(), batch.size());
        } catch (QueueException | RuntimeException e) {
            LOG.error("cannot defer {} recipients for {} (down): {}; they come due when their lease ends",
                    batch.size(), jobs.get(0).domain(), e.getMessage());
        } finally {
            jobs.forEach(this::finished);
        }
    }

    private void finished(Job job) {
        lock.lock();
        try {
            inFlight -= job.leases().size();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------- lanes

    /** One message and its recipients in one domain. */
    private record Job(String domain, QueueId id, List<Lease> leases) {
    }

    private record Idle(RelayClient client, Instant since) {
    }

    /** A domain's jobs and workers. Guarded by its own monitor. */
    private static final class Lane {
        final String domain;
        final Deque<Job> jobs = new ArrayDeque<>();
        final Deque<Idle> idle = new ArrayDeque<>();
        int workers;

        Lane(String domain) {
            this.domain = domain;
        }
    }

    private Lane lane(String domain) {
        synchronized (lanes) {
            return lanes.computeIfAbsent(domain, Lane::new);
        }
    }

    private void submit(Job job) {
        Lane lane = lane(job.domain());
        boolean startWorker;
        synchronized (lane) {
            lane.jobs.add(job);
            startWorker = lane.workers < settings.concurrency() && lane.workers < lane.jobs.size();
            if (startWorker) {
                lane.workers++;
            }
        }
        if (startWorker) {
            try {
                workers.execute(() -> work(lane));
            } catch (Throwable t) { // closing, or no thread could be started
                synchronized (lane) {
                    lane.workers--;
                    lane.jobs.remove(job);
                }
                finished(job); // the leases run out and the recipients come due again
                if (!(t instanceof java.util.concurrent.RejectedExecutionException)) {
                    throw t;
                }
            }
        }
    }

    /**
     * A worker: carries the lane's jobs one after the other until none is left. A job that fails in any way is left to
     * its lease (its recipients come due again) and the worker goes on with the next; however the worker ends, the lane
     * counts it out, so a lane never waits for a worker that is gone.
     */
    private void work(Lane lane) {
        RelayClient client = null;
        boolean counted = true;
        try {
            while (true) {
                Job job;
                synchronized (lane) {
                    job = closed ? null : lane.jobs.poll();
                    if (job == null) {
                        lane.workers--;
                        counted = false;
                        if (client != null && client.isOpen() && !closed
                                && !settings.connectionReuseTime().isZero()) {
                            lane.idle.push(new Idle(client, clock.instant()));
                            client = null;
                        }
                        return;
                    }
                }
                try {
                    client = deliver(lane, job, client);
                    deliveryLoop.succeeded();
                } catch (Throwable t) {
                    deliveryLoop.failed(job.id() + ": delivery to " + job.domain()
                            + " (its recipients come due when the lease ends)", t);
                    closeQuietly(client);
                    client = null;
                } finally {
                    finished(job);
                }
            }
        } finally {
            if (counted) {
                synchronized (lane) {
                    lane.workers--;
                }
            }
            closeQuietly(client);
        }
    }

    private RelayClient takeIdle(Lane lane) {
        Instant now = clock.instant();
        synchronized (lane) {
            Idle idle;
            while ((idle = lane.idle.poll()) != null) {
                if (Duration.between(idle.since(), now).compareTo(settings.connectionReuseTime()) <= 0
                        && idle.client().isOpen()) {
                    return idle.client();
                }
                closeQuietly(idle.client());
            }
        }
        return null;
    }

    private void closeStaleConnections() {
        List<Lane> all;
        synchronized (lanes) {
            all = new ArrayList<>(lanes.values());
        }
        Instant now = clock.instant();
        for (Lane lane : all) {
            List<RelayClient> stale = new ArrayList<>();
            synchronized (lane) {
                lane.idle.removeIf(i -> {
                    if (Duration.between(i.since(), now).compareTo(settings.connectionReuseTime()) > 0) {
                        stale.add(i.client());
                        return true;
                    }
                    return false;
                });
            }
            stale.forEach(Forwarder::closeQuietly);
        }
    }

    // -------------------------------------------------------------------------------------------- a delivery

    /** Delivers one job over {@code client} (or a new session); returns the connection to go on with, or null. */
    private RelayClient deliver(Lane lane, Job job, RelayClient client) {
        Instant now = clock.instant();
        Instant leaseEnd = job.leases().get(0).leaseUntil();
        if (now.plus(LEASE_MARGIN).isAfter(leaseEnd)) {
            LOG.warn("{}: lease for {} recipients to {} ran out while waiting; they come due again", job.id(),
                    job.leases().size(), job.domain());
            return client;
        }
        Optional<Envelope> envelope = queue.envelope(job.id());
        if (envelope.isEmpty()) {
            return client; // deleted meanwhile (admin): the leases are gone with it
        }
        Optional<DestinationHealth.Down> down = health.down(job.domain());
        if (down.isPresent()) {
            DeliveryOutcome held = FailurePolicy.destinationDown(down.get().failure(), down.get().since());
            record(job, envelope.get(), job.leases().stream().map(l -> held).toList());
            return client;
        }
        boolean reused = false;
        if (client == null || !client.isOpen()) {
            closeQuietly(client);
            client = takeIdle(lane);
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
        List<RecipientOutcome> results = client.send(message(envelope.get(), job));
        metrics.delivery(System.nanoTime() - started);
        if (reused && results.stream().map(RecipientOutcome::outcome).allMatch(FailurePolicy::lostBeforeAnyReply)) {
            // a parked connection the server had closed meanwhile: not the recipients' fault, try a fresh one
            closeQuietly(client);
            client = openSession(job, envelope.get());
            if (client == null) {
                return null;
            }
            results = client.send(message(envelope.get(), job));
        }
        record(job, envelope.get(), results.stream().map(RecipientOutcome::outcome).toList());
        if (!client.isOpen()) {
            closeQuietly(client);
            return null;
        }
        return client;
    }

    /**
     * A new session to the job's destination, marking the destination up (and flushing it if it was down); or, when
     * none opens, null after recording the failure for the job's recipients (and marking the destination down when a
     * host was reached and failed, rather than DNS alone).
     */
    private RelayClient openSession(Job job, Envelope envelope) {
        Connector.Opened opened = connector.open(job.domain());
        if (opened instanceof Connector.Refused refused) {
            if (FailurePolicy.marksDestinationDown(refused.contactedHost())) {
                health.markDown(job.domain(), refused.outcome(), clock.instant());
            }
            record(job, envelope, job.leases().stream().map(l -> refused.outcome()).toList());
            return null;
        }
        if (health.markUp(job.domain(), clock.instant())) {
            flushQuietly(job.domain());
        }
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
                throw new java.io.IOException(e.getMessage(), e);
            }
        });
    }

    /**
     * Decides each recipient's next state, queues the DSN the sender is owed, then records the outcomes: a DSN is
     * durable before the failure it reports is, so a crash between the two repeats it rather than losing it. Returns
     * how many outcomes were recorded.
     */
    private int record(Job job, Envelope envelope, List<DeliveryOutcome> outcomes) {
        Instant now = clock.instant();
        List<RetryPolicy.Decision> decisions = new ArrayList<>();
        List<DsnRecipient> failed = new ArrayList<>();
        List<DsnRecipient> delayed = new ArrayList<>();
        for (int i = 0; i < job.leases().size(); i++) {
            Lease lease = job.leases().get(i);
            DeliveryOutcome outcome = outcomes.get(i);
            RetryPolicy.Decision d = policy.decide(lease.state(), outcome, lease.attempts(), lease.firstQueuedAt(), now);
            decisions.add(d);
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
        List<MailQueue.Outcome> batch = new ArrayList<>();
        for (int i = 0; i < job.leases().size(); i++) {
            RetryPolicy.Decision d = decisions.get(i);
            if (!failedNotified && d.next().isFinal() && d.next() != RecipientState.DELIVERED) {
                continue;
            }
            batch.add(new MailQueue.Outcome(job.leases().get(i), outcomes.get(i), d));
        }
        int recorded = 0;
        try {
            List<Boolean> won = queue.recordOutcomes(batch);
            for (int i = 0; i < batch.size(); i++) {
                if (won.get(i)) {
                    recorded++;
                    MailQueue.Outcome o = batch.get(i);
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

    /** True once per recipient: at the first deferral at or after {@code delay-warning} in the queue. */
    private boolean crossesDelayWarning(Lease lease, Instant now) {
        Duration warning = settings.delayWarning();
        if (warning.isZero() || warning.isNegative()) {
            return false;
        }
        Instant at = lease.firstQueuedAt().plus(warning);
        return !now.isBefore(at) && (lease.lastAttemptAt() == null || lease.lastAttemptAt().isBefore(at));
    }

    private boolean probe(String destination) {
        try {
            Optional<DeliveryOutcome> failure = connector.probe(destination);
            Instant now = clock.instant();
            if (failure.isEmpty()) {
                if (health.markUp(destination, now)) {
                    flushQuietly(destination);
                }
                probeLoop.succeeded();
                return true;
            }
            health.probeFailed(destination, failure.get(), now);
            probeLoop.succeeded();
            return false;
        } catch (Throwable t) {
            probeLoop.failed("probe of " + destination, t);
            try {
                health.probeFailed(destination, FailurePolicy.localError(t), clock.instant());
            } catch (RuntimeException e) {
                LOG.debug("probe of {}: cannot record the failure", destination, e);
            }
            return false;
        } finally {
            health.probeDone(destination);
        }
    }

    private void flushQuietly(String domain) {
        try {
            flush(domain);
        } catch (QueueException e) {
            LOG.error("cannot flush {}: {}; its mail goes out at each recipient's next retry", domain, e.getMessage());
        }
    }

    // ----------------------------------------------------------------------------------------------- closing

    /**
     * Stops claiming, lets running attempts finish for up to {@value #CLOSE_GRACE_SECONDS} seconds (container
     * runtimes send SIGKILL ten seconds after SIGTERM; whatever is cut short is due again at the next start,
     * at-least-once), then closes every parked connection.
     *
     * <p>No thread is interrupted: the scheduler and the workers may be inside H2, and the JDK closes the file channel
     * of a thread interrupted in it, which damages the running database. The scheduler is told by a flag and a signal,
     * and stops when the queue call it is in returns; a delivery still running after the grace is left to finish on
     * its own (its outcome can no longer be recorded once the queue is closed: its recipients come due again).
     */
    @Override
    public void close() {
        Thread s;
        lock.lock();
        try {
            closed = true;
            s = scheduler;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        if (s != null) {
            try {
                s.join(SCHEDULER_STOP_WAIT.toMillis());
            } catch (InterruptedException e) {
                interrupted = true;
            }
            if (s.isAlive()) {
                LOG.warn("forwarder: the scheduler is still in a queue call after {} s; it stops when that returns",
                        SCHEDULER_STOP_WAIT.toSeconds());
            }
        }
        workers.shutdown();
        try {
            if (!interrupted && !workers.awaitTermination(CLOSE_GRACE_SECONDS, TimeUnit.SECONDS)) {
                LOG.warn("forwarder: deliveries still running after {} s are abandoned; they are due again at the next"
                        + " start", CLOSE_GRACE_SECONDS);
            } else if (!interrupted) {
                LOG.info("forwarder: running deliveries finished");
            }
        } catch (InterruptedException e) {
            interrupted = true;
        }
        List<Lane> all;
        synchronized (lanes) {
            all = new ArrayList<>(lanes.values());
        }
        for (Lane lane : all) {
            synchronized (lane) {
                lane.idle.forEach(i -> closeQuietly(i.client()));
                lane.idle.clear();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(RelayClient client) {
        if (client != null) {
            try {
                client.close();
            } catch (RuntimeException e) {
                LOG.debug("closing {} failed", client.host(), e);
            }
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
