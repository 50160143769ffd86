package org.backstopmx.queue.postgres;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link MailQueue} that several nodes share: envelopes, schedule, history and bodies in one PostgreSQL database,
 * so any node delivers any node's mail and a node's loss strands nothing. See the package description for the
 * layout and failure modes.
 *
 * <p>Differences from the H2 queue that callers can see: a lease's holder is this node's id ({@link #nodeId()}), and
 * its end is in microseconds; {@link #stats()} counts the whole queue (every node's mail) with one aggregate query
 * per call; {@link #hasRoomFor} cannot see the database's disk and says yes while the queue is open (a full disk
 * fails the commit with {@code STORAGE_FULL} instead). At open and at close a node gives back the leases held under
 * its own id, never another node's: those run out at their end.
 *
 * <p>Over 400 lines on purpose, as the H2 queue's front: it is the {@link MailQueue} interface, each method a short
 * transaction over the SQL classes beside it ({@code MessageSql}, {@code LeaseSql}, {@code Receiving}); splitting it
 * would scatter one interface over several files.
 */
public final class PostgresMailQueue implements MailQueue {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresMailQueue.class);

    private final PostgresDatabase db;
    private final String node;
    private final Clock clock;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Receiving receiving;
    private final PostgresRecipientCache recipients;
    private final PostgresGreylist greylist;
    private volatile QueueStats lastStats = new QueueStats(0, 0, java.util.Map.of());

    private PostgresMailQueue(PostgresDatabase db, String node, Clock clock) {
        this.db = db;
        this.node = node;
        this.clock = clock;
        this.receiving = new Receiving(db, node, clock, closed::get);
        this.recipients = new PostgresRecipientCache(db, closed::get);
        this.greylist = new PostgresGreylist(db, closed::get);
    }

    /**
     * Connects, migrates the schema, and recovers: the leases this node held when it last stopped can have no holder
     * now, so their recipients are due at once; leases of any node that have run out are cleared. Both counts are
     * logged.
     *
     * @throws QueueException UNAVAILABLE when the database cannot be reached, STORAGE_ERROR when the schema cannot be
     *                        migrated
     */
    public static PostgresMailQueue open(PostgresSettings settings, Clock clock) throws QueueException {
        Objects.requireNonNull(clock, "clock");
        PostgresDatabase db = PostgresDatabase.open(settings);
        try {
            Instant now = Times.micros(clock.instant());
            int own = db.transaction(c -> LeaseSql.releaseAllOf(c, settings.nodeId(), now));
            int expired = db.transaction(c -> LeaseSql.clearExpired(c, now));
            PostgresMailQueue queue = new PostgresMailQueue(db, settings.nodeId(), clock);
            QueueStats stats = queue.stats();
            LOG.info("queue open on {} as node {}: {} messages, {} recipients; recovery: {} recipients leased by this"
                    + " node's previous run are due now, {} expired leases cleared", settings.url(),
                    settings.nodeId(), stats.messages(), stats.recipients().values().stream().mapToLong(x -> x).sum(),
                    own, expired);
            return queue;
        } catch (SQLException | RuntimeException e) {
            db.close();
            throw PostgresDatabase.failure("cannot open the queue on " + settings.url(), e);
        }
    }

    /** What the primaries said about recipients, shared by every node (see {@link PostgresRecipientCache}). */
    public org.backstopmx.core.RecipientCache recipientCache() {
        return recipients;
    }

    /** The greylist, shared by every node (see {@link PostgresGreylist}). */
    public org.backstopmx.core.Greylist greylist() {
        return greylist;
    }

    /** This node's id: the holder named in its leases. */
    public String nodeId() {
        return node;
    }

    @Override
    public IncomingMessage receive(QueueId id) throws QueueException {
        return receiving.receive(Objects.requireNonNull(id, "id"));
    }

    @Override
    public boolean hasRoomFor(long expectedSize) {
        return !closed.get();
    }

    /** @throws IllegalStateException when the queue is closed or the database fails */
    @Override
    public List<QueuedMessage> list(int limit) {
        return query("list", c -> MessageSql.list(c, limit));
    }

    /** @throws IllegalStateException when the queue is closed or the database fails */
    @Override
    public Optional<QueuedMessage> find(QueueId id) {
        return query("find " + id, c -> MessageSql.find(c, id));
    }

    /** @throws IllegalStateException when the queue is closed or the database fails */
    @Override
    public Optional<Envelope> envelope(QueueId id) {
        return query("envelope " + id, c -> MessageSql.envelope(c, id));
    }

    @Override
    public InputStream openBody(QueueId id) throws QueueException {
        int chunks = call(id + ": body", () -> db.read(c -> {
            if (!MessageSql.exists(c, id)) {
                return -1;
            }
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM body_chunk WHERE message_id = ?")) {
                p.setString(1, id.value());
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        }));
        if (chunks < 0) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, id + ": no body in the queue");
        }
        return new BufferedInputStream(new ChunkedBody(db, id, chunks), 64 * 1024);
    }

    @Override
    public boolean delete(QueueId id) throws QueueException {
        Optional<Long> size = call(id + ": delete", () -> db.transaction(c -> MessageSql.delete(c, id)));
        if (size.isPresent()) {
            Receiving.MESSAGES.info("{}: deleted by the administrator on node {}", id, node);
            Receiving.MESSAGES.info("{}: removed size={}", id, size.get());
        }
        return size.isPresent();
    }

    @Override
    public List<Lease> leaseDue(int max, Duration leaseTime, Set<String> skip) throws QueueException {
        checkLeaseTime(leaseTime);
        Objects.requireNonNull(skip, "skip");
        if (max <= 0) {
            return List.of();
        }
        Instant now = Times.micros(clock.instant());
        Instant until = now.plus(leaseTime);
        return call("lease due recipients", () -> db.scheduleChange(c -> LeaseSql.claim(c, max, now, until, node,
                skip)));
    }

    @Override
    public int releaseLeases(List<Lease> leases) throws QueueException {
        if (leases.isEmpty()) {
            return 0;
        }
        Instant now = Times.micros(clock.instant());
        return call("give back leases", () -> db.scheduleChange(c -> LeaseSql.release(c, leases, now)));
    }

    @Override
    public List<Lease> renewLeases(List<Lease> leases, Duration leaseTime) throws QueueException {
        Objects.requireNonNull(leases, "leases");
        checkLeaseTime(leaseTime);
        if (leases.isEmpty()) {
            return List.of();
        }
        Instant now = Times.micros(clock.instant());
        return call("renew leases", () -> db.scheduleChange(c -> LeaseSql.renew(c, leases, now, now.plus(leaseTime))));
    }

    @Override
    public boolean recordOutcome(Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision)
            throws QueueException {
        return recordOutcomes(List.of(new Attempt(lease, outcome, decision))).get(0);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The messages are locked in queue-id order whatever the order of {@code outcomes}, so two nodes recording
     * outcomes for the same messages at once never deadlock.
     */
    @Override
    public List<Boolean> recordOutcomes(List<Attempt> outcomes) throws QueueException {
        Objects.requireNonNull(outcomes, "outcomes");
        for (Attempt o : outcomes) {
            if (!o.lease().state().canMoveTo(o.decision().next())) {
                throw new IllegalArgumentException(o.lease().queueId() + ": a recipient in " + o.lease().state()
                        + " cannot move to " + o.decision().next());
            }
        }
        if (outcomes.isEmpty()) {
            return List.of();
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < outcomes.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparing((Integer i) -> outcomes.get(i).lease().queueId()));
        Instant now = Times.micros(clock.instant());
        LeaseSql.Recorded[] recorded = call(outcomes.get(0).lease().queueId() + ": record outcome",
                () -> db.transaction(c -> {
                    LeaseSql.Recorded[] r = new LeaseSql.Recorded[outcomes.size()];
                    for (int i : order) {
                        Attempt o = outcomes.get(i);
                        r[i] = LeaseSql.record(c, o.lease(), o.outcome(), o.decision(), now, node);
                    }
                    return r;
                }));
        List<Boolean> won = new ArrayList<>(outcomes.size());
        for (int i = 0; i < outcomes.size(); i++) {
            Attempt o = outcomes.get(i);
            won.add(recorded[i].won());
            if (!recorded[i].won()) {
                Receiving.MESSAGES.info("{}: to=<{}>: outcome not recorded, the lease was lost ({})",
                        o.lease().queueId(), o.lease().address(), o.outcome().describe());
                continue;
            }
            Receiving.MESSAGES.info("{}: to=<{}>: {} node={}", o.lease().queueId(), o.lease().address(),
                    o.decision().reason(), node);
            recorded[i].finishedSize().ifPresent(size -> Receiving.MESSAGES.info("{}: removed size={}",
                    o.lease().queueId(), size));
        }
        return won;
    }

    @Override
    public int recoverExpiredLeases() throws QueueException {
        Instant now = Times.micros(clock.instant());
        return call("clear expired leases", () -> db.scheduleChange(c -> LeaseSql.clearExpired(c, now)));
    }

    @Override
    public int flush(String domain) throws QueueException {
        Objects.requireNonNull(domain, "domain");
        Instant now = Times.micros(clock.instant());
        return call("flush " + domain, () -> db.scheduleChange(c -> AdminSql.flush(c, domain, now)));
    }

    @Override
    public Optional<Integer> hold(QueueId id) throws QueueException {
        return move(id, EnumSet.of(RecipientState.QUEUED, RecipientState.DEFERRED), RecipientState.HELD, "held");
    }

    @Override
    public Optional<Integer> release(QueueId id) throws QueueException {
        return move(id, EnumSet.of(RecipientState.HELD), RecipientState.QUEUED, "released");
    }

    @Override
    public List<Lease> leaseMessage(QueueId id, Duration leaseTime) throws QueueException {
        Objects.requireNonNull(id, "id");
        checkLeaseTime(leaseTime);
        Instant now = Times.micros(clock.instant());
        return call(id + ": lease", () -> db.scheduleChange(c -> AdminSql.leaseMessage(c, id, now,
                now.plus(leaseTime), node)));
    }

    @Override
    public Set<String> pendingDomains() throws QueueException {
        return call("pending domains", () -> db.read(AdminSql::pendingDomains));
    }

    /** Every node's pending mail per domain: recipients by state, and each domain's oldest pending message. */
    public record ByDomain(java.util.Map<String, java.util.Map<RecipientState, Long>> recipients,
            java.util.Map<String, Instant> oldestPending) {
    }

    /** @throws IllegalStateException when the queue is closed or the database fails */
    public ByDomain byDomain() {
        return query("pending mail per domain", AdminSql::byDomain);
    }

    /** The per-domain figures of the gauges, cluster-wide (see {@link PostgresQueueMetrics}). */
    org.backstopmx.core.DomainGauges.Figures domainFigures(Instant expiringReceivedBefore) {
        return query("per-domain figures", c -> AdminSql.figures(c, expiringReceivedBefore));
    }

    @Override
    public Optional<Instant> nextDue() throws QueueException {
        return call("next due", () -> db.read(LeaseSql::nextDue));
    }

    @Override
    public void onArrival(ArrivalListener listener) {
        receiving.onArrival(listener);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Cluster-wide: every node's messages, counted by one aggregate query per call (no node can keep counters of
     * the others' changes). When the database cannot be read, the last counts read.
     */
    @Override
    public QueueStats stats() {
        if (closed.get()) {
            return lastStats;
        }
        try {
            lastStats = db.read(MessageSql::stats);
        } catch (SQLException | RuntimeException e) {
            LOG.debug("queue stats: {}", e.toString());
        }
        return lastStats;
    }

    /**
     * Why the queue cannot take mail now, in one line; empty while it can: for the readiness check. Asks the database
     * (one round trip: at most the pool's connection timeout and the probe's own, a few seconds, when its packets are
     * dropped).
     */
    public Optional<String> whyNotWritable() {
        if (closed.get()) {
            return Optional.of("the queue is closed");
        }
        try {
            db.probe();
            return Optional.empty();
        } catch (SQLException | RuntimeException e) {
            return Optional.of("the queue database cannot be reached: " + e.getMessage());
        }
    }

    /** Database connections this node uses now. */
    public int activeDatabaseConnections() {
        return db.activeConnections();
    }

    /** Aborts the messages being received, gives back this node's running leases (best effort), closes the pool. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        receiving.abortAll();
        try {
            Instant now = Times.micros(clock.instant());
            int released = db.transaction(c -> LeaseSql.releaseAllOf(c, node, now));
            LOG.info("queue closing: {} recipients leased by node {} but not recorded are due again", released, node);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("queue closing: cannot give back node {}'s leases ({}); they run out at their end", node,
                    e.toString());
        }
        db.close();
        LOG.info("queue of node {} closed", node);
    }

    private Optional<Integer> move(QueueId id, Set<RecipientState> from, RecipientState to, String action)
            throws QueueException {
        Objects.requireNonNull(id, "id");
        Instant now = Times.micros(clock.instant());
        Optional<Integer> moved = call(id + ": " + action, () -> db.transaction(c -> AdminSql.move(c, id, from, to,
                now)));
        moved.ifPresent(n -> Receiving.MESSAGES.info("{}: {} by the administrator nrcpt={} node={}", id, action, n,
                node));
        return moved;
    }

    private static void checkLeaseTime(Duration leaseTime) {
        Objects.requireNonNull(leaseTime, "leaseTime");
        if (leaseTime.isNegative() || leaseTime.isZero()) {
            throw new IllegalArgumentException("lease time must be positive: " + leaseTime);
        }
    }

    private interface Work<T> {
        T run() throws SQLException;
    }

    private <T> T call(String what, Work<T> work) throws QueueException {
        if (closed.get()) {
            throw new QueueException(QueueException.Kind.UNAVAILABLE, what + ": the queue is closed");
        }
        try {
            return work.run();
        } catch (SQLException | RuntimeException e) {
            throw PostgresDatabase.failure(what, e);
        }
    }

    private <T> T query(String what, PostgresDatabase.SqlWork<T> work) {
        try {
            return call(what, () -> db.read(work));
        } catch (QueueException e) {
            throw new IllegalStateException("queue: " + what + " failed: " + e.getMessage(), e);
        }
    }
}
