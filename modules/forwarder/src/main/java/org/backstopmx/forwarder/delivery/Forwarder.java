package org.backstopmx.forwarder.delivery;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import io.micrometer.core.instrument.MeterRegistry;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.RecipientCache;
import org.backstopmx.core.RecipientVerifier;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.PrimaryAddresses;
import org.backstopmx.core.Standby;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.AcceptConfig;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.forwarder.DnsjavaDnssecLookup;
import org.backstopmx.forwarder.DomainNames;
import org.backstopmx.forwarder.MxResolver;
import org.backstopmx.forwarder.PrimaryAddressBook;
import org.backstopmx.forwarder.RouteResolver;
import org.backstopmx.forwarder.dsn.DsnComposer;
import org.backstopmx.forwarder.sts.MtaSts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivering side: drains the queue to each recipient domain's destination (the primary MX for a served domain,
 * the sender's MX for a bounce). This class only builds, starts, stops and wires the parts of
 * {@code forwarder.delivery} (see its {@code package-info}); each part owns its own state.
 *
 * <h2>Stopping</h2>
 * Nothing interrupts a thread of the forwarder: one interrupted inside H2 has its file channel closed by the JDK,
 * which damages the running database. {@link #close()} raises the flags and signals the scheduler, which stops at its
 * next turn.
 *
 * <h2>Time</h2>
 * Everything reads the injected {@link Clock}. Tests do not start the scheduler thread: they move a clock and call
 * {@link #deliverDue()} and {@link #probeNow()}, which run a round to its end.
 */
public final class Forwarder implements EtrnService, MailQueue.ArrivalListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
    /** How long {@link #close()} waits for running deliveries. */
    static final int CLOSE_GRACE_SECONDS = 5;
    /** The longest the scheduler may go without a turn before the process is reported not live. */
    public static final Duration SCHEDULER_BOUND = DeliveryScheduler.BOUND;

    private final RouteResolver routes;
    /** The primaries' addresses, for the receiving side's screen. */
    private final PrimaryAddressBook primaryAddresses;
    private final Connector connector;
    private final RetryPolicy policy;
    private final Clock clock;
    private final ExecutorService pool;
    private final ConnectionCache cache;
    private final DownDestinations down;
    private final Lanes lanes;
    private final InFlight inFlight = new InFlight();
    private final DeliveryScheduler scheduler;
    private final EtrnGate etrnGate;
    private final AdminActions admin;
    private final LearnedCapabilities learned = new LearnedCapabilities();
    private final PrimaryWatch standby;
    private final Callouts callouts;

    /** Every domain of {@code routes} taken always ({@code accept: always}), without recipient verification. */
    public Forwarder(ForwarderSettings settings, MailQueue queue, RouteResolver routes, MxResolver dns,
            RetryPolicy policy, ForwarderMetrics metrics, Clock clock) {
        this(settings, queue, routes, dns, policy, metrics, clock, Map.of(), AcceptConfig.defaults().downAfter());
    }

    /** Without recipient verification (no callout domain). */
    public Forwarder(ForwarderSettings settings, MailQueue queue, RouteResolver routes, MxResolver dns,
            RetryPolicy policy, ForwarderMetrics metrics, Clock clock, Map<String, DomainConfig> domains,
            int downAfter) {
        this(settings, queue, routes, dns, policy, metrics, clock, domains, downAfter, null);
    }

    /**
     * @param domains   the served domains, for standby mode ({@code domains.<name>.accept})
     * @param downAfter {@code accept.down-after}
     * @param callout   how to verify the recipients of the callout domains, and where to keep what is learned; null
     *                  for none: every recipient is valid ({@link #recipientVerifier()})
     */
    public Forwarder(ForwarderSettings settings, MailQueue queue, RouteResolver routes, MxResolver dns,
            RetryPolicy policy, ForwarderMetrics metrics, Clock clock, Map<String, DomainConfig> domains,
            int downAfter, CalloutSetup callout) {
        this(settings, queue, routes, dns, policy, metrics, clock, domains, downAfter, callout,
                MtaSts.of(DnsConfig.defaults(), settings.tlsTrust().verifying(), null, clock));
    }

    /**
     * @param mtaSts the policies of the domains at the {@code mta-sts} level
     */
    public Forwarder(ForwarderSettings settings, MailQueue queue, RouteResolver routes, MxResolver dns,
            RetryPolicy policy, ForwarderMetrics metrics, Clock clock, Map<String, DomainConfig> domains,
            int downAfter, CalloutSetup callout, MtaSts mtaSts) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(queue, "queue");
        Objects.requireNonNull(metrics, "metrics");
        this.routes = Objects.requireNonNull(routes, "routes");
        this.primaryAddresses = new PrimaryAddressBook(routes, dns);
        this.policy = Objects.requireNonNull(policy, "policy");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.connector = new Connector(routes, dns, settings, learned, metrics::tls, mtaSts);
        this.pool = Executors.newCachedThreadPool(named("backstop-delivery"));
        this.cache = new ConnectionCache(settings.connectionReuseTime(), clock);
        this.down = new DownDestinations(settings.probeInterval(), connector, queue, pool, inFlight::wake, clock);
        this.down.listener(metrics::destination);
        this.standby = new PrimaryWatch(settings.probeInterval(), downAfter, connector, down, pool,
                metrics::accepting, clock);
        this.standby.domains(domains);
        Bouncer bouncer = new Bouncer(queue, new DsnComposer(settings.hostname(), settings.bounceSizeLimit(), clock),
                settings.hostname(), clock);
        this.callouts = callout == null ? null : callout.build(routes, dns, settings, learned, down, mtaSts, clock);
        OutcomeRecorder recorder = new OutcomeRecorder(queue, policy, bouncer, metrics, settings.delayWarning(), clock,
                callouts, new BackscatterGuard(settings.bounceOnlySpfPass()));
        LeaseKeeper leases = new LeaseKeeper(queue, settings.leaseTime(), clock);
        DeliveryAttempt attempt = new DeliveryAttempt(queue, connector, cache, down, recorder, metrics, clock, leases);
        Liveness.Loop unwatched = new Liveness(clock).register("backstop-delivery", null);
        this.lanes = new Lanes(settings, pool, attempt, cache, job -> {
            leases.forget(job);
            inFlight.finished(job);
        }, unwatched);
        this.scheduler = new DeliveryScheduler(settings, queue, inFlight, lanes, leases, down, standby, recorder,
                cache, unwatched, clock);
        this.etrnGate = new EtrnGate(routes, connector, down);
        this.admin = new AdminActions(queue, recorder, down, routes, settings.leaseTime(), inFlight::wake);
        queue.onArrival(this); // last: the queue may call back from now on
    }

    /**
     * The forwarder of {@code config}: routes from its domains and {@code routes} over {@code dns}, its retry policy
     * and delivery settings, meters in {@code registry}. Not started.
     */
    public static Forwarder of(BackstopConfig config, MailQueue queue, MxResolver dns, MeterRegistry registry,
            Clock clock) {
        return of(config, queue, null, dns, registry, clock);
    }

    /** As {@link #of(BackstopConfig, MailQueue, MxResolver, MeterRegistry, Clock)}, learning recipients in {@code cache}. */
    public static Forwarder of(BackstopConfig config, MailQueue queue, RecipientCache cache, MxResolver dns,
            MeterRegistry registry, Clock clock) {
        Random random = new Random(); // thread-safe: MX shuffling and backoff jitter
        CalloutSetup callout = cache == null ? null
                : new CalloutSetup(config.callout(), config.calloutDomains(), cache, registry);
        ForwarderSettings settings = ForwarderSettings.from(config);
        if (config.dns().validates()) {
            settings = settings.withDnssec(new DnsjavaDnssecLookup(config.dns(), clock));
        }
        return new Forwarder(settings, queue, new RouteResolver(config, dns, random), dns,
                new RetryPolicy(config.retry(), config.queue().lifetime(), random, config.queue().atExpiry()),
                new ForwarderMetrics(registry, config.servedDomains()), clock, config.domains(),
                config.accept().downAfter(), callout,
                MtaSts.of(config.dns(), settings.tlsTrust().verifying(), config.queue().path(), clock));
    }

    /** Starts the scheduler thread, watched by nobody (tests). */
    public void start() {
        start(new Liveness(clock));
    }

    /**
     * Starts the scheduler thread. The scheduler beats in {@code liveness} at every turn (at most
     * {@link #SCHEDULER_BOUND} apart), and the scheduler, the workers and the probes report their failures there.
     */
    public synchronized void start(Liveness liveness) {
        if (scheduler.started()) {
            throw new IllegalStateException("already started"); // before registering loops nobody would beat
        }
        Liveness.Loop loop = liveness.register("backstop-scheduler", SCHEDULER_BOUND);
        Liveness.Loop delivery = liveness.register("backstop-delivery", null);
        lanes.watch(delivery);
        Liveness.Loop probes = liveness.register("backstop-probe", null);
        down.watch(probes);
        standby.watch(probes);
        scheduler.start(named("backstop-scheduler"), loop, delivery);
        primaryAddresses.start();
    }

    /**
     * A configuration reload: takes the served domains, their routes and STARTTLS policies, {@code routes} and
     * {@code self-names} from {@code config}. Attempts under way finish with what they had resolved.
     */
    public void reload(BackstopConfig config) {
        routes.reload(config);
        connector.domainTls(ForwarderSettings.from(config).domainTls());
        standby.domains(config.domains());
        primaryAddresses.refreshSoon();
        if (callouts != null) {
            callouts.reload(config.calloutDomains(), ForwarderSettings.from(config).domainTls());
        }
    }

    /** Standby mode at intake: which served domains are left to their primary now. */
    public Standby standby() {
        return standby;
    }

    /**
     * Whether the primary of a callout domain takes a recipient, for RCPT at intake; {@link RecipientVerifier#NONE}
     * when this forwarder was built without a recipient cache.
     */
    public RecipientVerifier recipientVerifier() {
        return callouts != null ? callouts : RecipientVerifier.NONE;
    }

    /** The served domains' primaries' addresses, which the receiving side never screens. */
    public PrimaryAddresses primaryAddresses() {
        return primaryAddresses;
    }

    /** What the served domains' primaries offered when last spoken to, for the capability rule at intake. */
    public PrimaryCapabilities primaryCapabilities() {
        return learned;
    }

    /** Asks the scheduler to look at the queue now (new mail, a flush). Cheap; callable from any thread. */
    public void wake() {
        inFlight.wake();
    }

    /**
     * New mail for a destination that is down is not tried just to be deferred: it is first due after a first
     * backoff, or as soon as the destination is back (the flush brings it forward). Otherwise it is due at once.
     */
    @Override
    public Instant firstAttempt(String domain, Instant now) {
        return down.isDown(domain) ? policy.firstRetry(now) : now;
    }

    /** Wakes the scheduler for new mail, unless all of it waits for destinations that are down; logs those. */
    @Override
    public void arrived(Envelope envelope) {
        boolean due = false;
        for (EnvelopeRecipient r : envelope.recipients()) {
            Optional<DownDestinations.Down> isDown = down.down(r.domain());
            if (isDown.isEmpty()) {
                due = true;
            } else {
                LOG.info("{}: deferred to=<{}>: destination {} is down since {} ({}); delivered when it is back",
                        envelope.id(), r.address(), r.domain(), isDown.get().since(),
                        isDown.get().failure().describe());
            }
        }
        if (due) {
            wake();
        }
    }

    /** Whether {@code domain}'s destination is marked down. */
    public boolean isDown(String domain) {
        return down.isDown(DomainNames.normalize(domain));
    }

    /** The destinations marked down now, among the served domains and those with mail waiting, sorted. */
    public List<String> downDestinations() throws QueueException {
        return admin.downDestinations();
    }

    /**
     * Delivers everything due now and returns when all of it is recorded (including what a flush made due meanwhile).
     * For tests and tools; the running appliance does this in its scheduler thread.
     *
     * @return how many recipients were claimed
     */
    public int deliverDue() throws InterruptedException {
        return scheduler.deliverDue();
    }

    /**
     * Probes, now, every down destination whose probe is due, and flushes those that answer, and every primary of a
     * domain in standby mode whose probe is due (see {@link #standby()}). Returns the
     * destinations that came up. For tests; the scheduler thread runs probes on its own.
     */
    public List<String> probeNow() {
        standby.probeNow();
        return down.probeNow();
    }

    /**
     * Flushes {@code domain}: marks its destination up and makes all its pending mail due now.
     *
     * @return how many of its recipients are pending (0: nothing waiting)
     */
    public int flush(String domain) throws QueueException {
        return down.flush(domain);
    }

    /** ETRN: see {@link EtrnGate}. */
    @Override
    public Result etrn(String domain, InetAddress client) {
        return etrnGate.etrn(domain, client);
    }

    /**
     * {@code queue hold ID}: the message's pending recipients are not tried until released (those being tried right
     * now finish their attempt).
     *
     * @return how many recipients were held; empty when no such message is queued
     */
    public Optional<Integer> hold(QueueId id) throws QueueException {
        return admin.hold(id);
    }

    /**
     * {@code queue release ID}: the message's held recipients are due now.
     *
     * @return how many recipients were released; empty when no such message is queued
     */
    public Optional<Integer> release(QueueId id) throws QueueException {
        return admin.release(id);
    }

    /**
     * {@code queue bounce ID}: every pending recipient of the message (held ones included; not those being tried right
     * now) fails with {@code 5.0.0 returned to the sender by the administrator}, and the sender gets the DSN a 5xx from
     * the primary would have produced (NOTIFY and a null sender honoured), queued before the failures are recorded.
     *
     * @return how many recipients were failed; empty when no such message is queued
     */
    public Optional<Integer> bounce(QueueId id) throws QueueException {
        return admin.bounce(id);
    }

    /**
     * {@code queue flush} without a domain: {@link #flush} every domain that has QUEUED or DEFERRED mail (held mail
     * stays held), like Postfix's {@code postqueue -f}.
     *
     * @return how many recipients are pending in those domains
     */
    public int flushAll() throws QueueException {
        return admin.flushAll();
    }

    /**
     * Stops claiming, lets running attempts finish for up to {@value #CLOSE_GRACE_SECONDS} seconds (container
     * runtimes send SIGKILL ten seconds after SIGTERM; whatever is cut short is due again at the next start,
     * at-least-once), then closes every parked connection.
     *
     * <p>No thread is interrupted: the scheduler and the workers may be inside H2. The scheduler is told by a flag and
     * a signal, and stops when the queue call it is in returns; a delivery still running after the grace is left to
     * finish on its own (its outcome can no longer be recorded once the queue is closed: its recipients come due
     * again).
     */
    @Override
    public void close() {
        lanes.close();
        boolean interrupted = !scheduler.stop();
        pool.shutdown();
        try {
            if (!interrupted && !pool.awaitTermination(CLOSE_GRACE_SECONDS, TimeUnit.SECONDS)) {
                LOG.warn("forwarder: deliveries still running after {} s are abandoned; they are due again at the next"
                        + " start", CLOSE_GRACE_SECONDS);
            } else if (!interrupted) {
                LOG.info("forwarder: running deliveries finished");
            }
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (callouts != null) {
            callouts.close();
        }
        primaryAddresses.close();
        cache.closeAll();
        if (interrupted) {
            Thread.currentThread().interrupt();
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
