package org.backstopmx.queue;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.backstopmx.core.DeliveryOutcome;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.Lease;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueueStats;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.config.QueueConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link MailQueue} of one appliance: envelopes and schedule in H2 ({@code queue.mv.db}), bodies as fsynced files
 * in {@code spool/}, acknowledged only after a group-commit fsync. See the package description for the layout and
 * failure modes.
 *
 * <p>Over 400 lines on purpose: it is the {@link MailQueue} interface and its open sequence; the work itself is in
 * one class per side ({@code Enqueuer} receiving, {@code Deliveries} delivering, {@code AdminChanges} the admin's
 * changes, {@code Writability}, {@code Maintenance}), and most methods here are one-line hand-overs with their
 * contracts.
 */
public final class H2MailQueue implements MailQueue {
    private static final Logger LOG = LoggerFactory.getLogger(H2MailQueue.class);

    private final Path dir;
    private final QueueLock lock;
    private final Spool spool;
    private final Quarantine quarantine;
    private final DiskSpace disk;
    private final QueueDatabase db;
    private final QueueCounters counters;
    private final GroupCommit groupCommit;
    private final Maintenance maintenance;
    private final Lifecycle lifecycle = new Lifecycle();
    private final Writability writability;
    private final Enqueuer enqueuer;
    private final Deliveries deliveries;
    private final AdminChanges admin;
    private final H2RecipientCache recipients;
    private final H2Greylist greylist;
    private final Clock clock;

    private H2MailQueue(Path dir, QueueLock lock, Spool spool, Quarantine quarantine, DiskSpace disk, QueueDatabase db,
            QueueCounters counters, FlushMarks flushes, GroupCommit groupCommit, Maintenance maintenance,
            Clock clock) {
        this.dir = dir;
        this.lock = lock;
        this.spool = spool;
        this.quarantine = quarantine;
        this.disk = disk;
        this.db = db;
        this.counters = counters;
        this.groupCommit = groupCommit;
        this.maintenance = maintenance;
        this.clock = clock;
        this.enqueuer = new Enqueuer(spool, db, groupCommit, counters, disk, clock, lifecycle, maintenance::wrote);
        this.deliveries = new Deliveries(db, groupCommit, counters, spool, disk, clock, lifecycle, maintenance::wrote,
                flushes);
        this.admin = new AdminChanges(db, groupCommit, counters, spool, disk, clock, lifecycle, maintenance);
        this.writability = new Writability(lifecycle, db, groupCommit, disk, deliveries);
        this.recipients = new H2RecipientCache(db, lifecycle);
        this.greylist = new H2Greylist(db, lifecycle);
    }

    /** What the primaries said about recipients, kept in this queue's database (see {@link H2RecipientCache}). */
    public org.backstopmx.core.RecipientCache recipientCache() {
        return recipients;
    }

    /** The triplets greylisting has seen, kept in this queue's database (see {@link H2Greylist}). */
    public org.backstopmx.core.Greylist greylist() {
        return greylist;
    }

    /**
     * Opens the queue in {@code config.path()} for reading and writing, creating it on first use: takes the lock file,
     * creates or migrates the schema, runs startup recovery and loads the counters.
     *
     * @param maxMessageSize the largest message accepted ({@code smtp.max-message-size}); 1.5 × it is the free-space
     *                       reserve when {@code queue.min-free-space} is 0
     * @param clock          the time for due dates and maintenance stamps
     * @throws QueueException UNAVAILABLE when another process (or this one) has the queue open, STORAGE_ERROR when it
     *                        cannot be opened
     */
    public static H2MailQueue open(QueueConfig config, long maxMessageSize, Clock clock) throws QueueException {
        return open(config, maxMessageSize, clock, new Liveness(clock));
    }

    /**
     * As {@link #open(QueueConfig, long, Clock)}, with the syncer and the maintenance timer beating in {@code liveness}
     * ({@code queue-syncer}, {@code queue-maintenance}).
     */
    public static H2MailQueue open(QueueConfig config, long maxMessageSize, Clock clock, Liveness liveness)
            throws QueueException {
        return open(config, maxMessageSize, clock, liveness, Writability.WATCH_INTERVAL);
    }

    /** As {@link #open(QueueConfig, long, Clock, Liveness)}, looking at whether the queue takes mail every {@code watch}. */
    static H2MailQueue open(QueueConfig config, long maxMessageSize, Clock clock, Liveness liveness, Duration watch)
            throws QueueException {
        Objects.requireNonNull(clock, "clock");
        if (!(config.compactRatio() > 1)) {
            throw new IllegalArgumentException("queue.compact-ratio must be greater than 1: " + config.compactRatio());
        }
        Path dir = config.path().toAbsolutePath().normalize();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, "cannot create queue directory " + dir, e);
        }
        QueueLock lock = QueueLock.exclusive(dir);
        QueueDatabase db = null;
        GroupCommit groupCommit = null;
        try {
            Spool spool = Spool.open(dir);
            Quarantine quarantine = Quarantine.of(dir);
            DiskSpace disk = new DiskSpace(spool.root(), DiskSpace.reserveFor(config.minFreeSpace(), maxMessageSize));
            Path file = dir.resolve(QueueDatabase.FILE_NAME);
            Compactor.cleanUp(file);
            long closedAt = DatabaseGuard.beforeOpen(dir, spool);
            try {
                db = QueueDatabase.open(dir);
            } catch (SQLException | RuntimeException e) {
                if (e instanceof SQLException && ((SQLException) e).getErrorCode() == 90020) {
                    throw e;
                }
                throw DatabaseGuard.damaged(file, "H2 cannot open it (" + e.getMessage() + ")", e);
            }
            DatabaseGuard.afterOpen(dir, db.read(H2StoreHeader::storeVersion), closedAt);
            db.read(c -> SchemaMigrator.migrate(c, clock));
            QueueCounters counters = new QueueCounters();
            FlushMarks flushes = new FlushMarks();
            try {
                StartupRecovery.run(db, spool, quarantine, clock.instant());
                Deliveries.recoverAtStartup(db, clock.instant());
                db.read(c -> {
                    counters.load(c);
                    flushes.load(c);
                    return null;
                });
            } catch (SQLException | RuntimeException e) {
                throw DatabaseGuard.damaged(file, "H2 cannot read it (" + e.getMessage() + ")", e);
            }
            db.checked();
            db.afterReopen(c -> {
                // what H2 lost when it closed the database must not stay counted. XXX: an operation that finished
                // just before the reopen and has not moved the counters yet is counted twice, until the next start
                counters.load(c);
                flushes.load(c);
                return null;
            });
            groupCommit = GroupCommit.start(db, liveness);
            Maintenance maintenance = new Maintenance(
                    new Compactor(db, groupCommit, config.compactRatio(), config.compactMinSize()), clock, liveness);
            H2MailQueue queue = new H2MailQueue(dir, lock, spool, quarantine, disk, db, counters, flushes,
                    groupCommit, maintenance, clock);
            maintenance.start();
            queue.writability.start(watch, liveness);
            LOG.info("queue open at {}: {} messages, {} recipients, database {} bytes, free-space reserve {} bytes", dir,
                    counters.messages(), counters.recipients(), db.fileSize(), disk.reserve());
            return queue;
        } catch (SQLException | IOException | QueueException | RuntimeException e) {
            if (groupCommit != null) {
                groupCommit.close();
            }
            if (db != null) {
                db.close();
            }
            lock.close();
            if (e instanceof QueueException) {
                throw (QueueException) e;
            }
            if (e instanceof SQLException && ((SQLException) e).getErrorCode() == 90020) {
                throw new QueueException(QueueException.Kind.UNAVAILABLE, "queue database in " + dir
                        + " is in use by another process", e);
            }
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, "cannot open the queue in " + dir + ": " + e, e);
        }
    }

    @Override
    public IncomingMessage receive(QueueId id) throws QueueException {
        return enqueuer.receive(Objects.requireNonNull(id, "id"));
    }

    @Override
    public boolean hasRoomFor(long expectedSize) {
        return !lifecycle.isClosed() && disk.hasRoomFor(expectedSize);
    }

    /** @throws IllegalStateException when the queue is closed or the database fails */
    @Override
    public List<QueuedMessage> list(int limit) {
        return query("list", c -> MessageRows.list(c, limit));
    }

    /** @throws IllegalStateException when the queue is closed or the database fails */
    @Override
    public Optional<QueuedMessage> find(QueueId id) {
        return query("find " + id, c -> MessageRows.find(c, id));
    }

    /** @throws IllegalStateException when the queue is closed or the database fails */
    @Override
    public Optional<Envelope> envelope(QueueId id) {
        return query("envelope " + id, c -> MessageRows.envelope(c, id));
    }

    @Override
    public InputStream openBody(QueueId id) throws QueueException {
        if (lifecycle.isClosed()) {
            throw StorageFailure.unavailable(id + ": body");
        }
        try {
            return new BufferedInputStream(spool.open(id), 64 * 1024);
        } catch (NoSuchFileException e) {
            throw new QueueException(QueueException.Kind.STORAGE_ERROR, id + ": no body in the queue", e);
        } catch (IOException e) {
            throw StorageFailure.of(id + ": cannot open the body", e, disk, 0);
        }
    }

    /**
     * Deletes the rows, waits until that is durable, then unlinks the spool file ({@link AdminChanges}): a crash in
     * between makes the deleted message come back once at the next start (at-least-once, like every crash here).
     */
    @Override
    public boolean delete(QueueId id) throws QueueException {
        return admin.delete(id);
    }

    @Override
    public List<Lease> leaseDue(int max, Duration leaseTime, java.util.Set<String> skip) throws QueueException {
        return deliveries.leaseDue(max, leaseTime, skip);
    }

    @Override
    public List<Lease> renewLeases(List<Lease> leases, Duration leaseTime) throws QueueException {
        return deliveries.renewLeases(leases, leaseTime);
    }

    @Override
    public int releaseLeases(List<Lease> leases) throws QueueException {
        return deliveries.releaseLeases(leases);
    }

    /**
     * {@inheritDoc}
     *
     * <p>A finished message is removed with its attempt history in the same transaction; its body file is unlinked
     * once that is durable.
     */
    @Override
    public boolean recordOutcome(Lease lease, DeliveryOutcome outcome, RetryPolicy.Decision decision)
            throws QueueException {
        return deliveries.recordOutcome(lease, outcome, decision);
    }

    @Override
    public List<Boolean> recordOutcomes(List<MailQueue.Attempt> outcomes) throws QueueException {
        return deliveries.recordOutcomes(outcomes);
    }

    @Override
    public int recoverExpiredLeases() throws QueueException {
        return deliveries.recoverExpiredLeases();
    }

    @Override
    public int flush(String domain) throws QueueException {
        return deliveries.flush(Objects.requireNonNull(domain, "domain"));
    }

    @Override
    public Optional<Integer> hold(QueueId id) throws QueueException {
        return admin.hold(id);
    }

    @Override
    public Optional<Integer> release(QueueId id) throws QueueException {
        return admin.release(id);
    }

    @Override
    public List<Lease> leaseMessage(QueueId id, Duration leaseTime) throws QueueException {
        return admin.leaseMessage(id, leaseTime);
    }

    @Override
    public java.util.Set<String> pendingDomains() throws QueueException {
        return admin.pendingDomains();
    }

    @Override
    public Optional<Instant> nextDue() throws QueueException {
        return deliveries.nextDue();
    }

    @Override
    public void onArrival(ArrivalListener listener) {
        enqueuer.onArrival(listener);
    }

    @Override
    public QueueStats stats() {
        return counters.snapshot();
    }

    /**
     * Why the queue cannot take mail now, in one line; empty while it can. The one answer behind the readiness check
     * ({@code /health/ready}) and the {@code backstop_queue_writable} gauge: the queue is closed, its database was
     * closed by H2 after a failed write and is not reopened yet, the last group commit failed and none has succeeded
     * since, or the usable space is below the free-space reserve. Every condition but the first clears by itself
     * when its cause is gone (see {@code Writability}).
     */
    public Optional<String> whyNotWritable() {
        return writability.problem();
    }

    /** How many times a database H2 had closed was reopened since open. */
    public long databaseReopens() {
        return db.reopens();
    }

    /**
     * Per domain: its recipients by state, and when the oldest message with a recipient of it still pending (QUEUED,
     * DEFERRED, HELD) was received. The counts come from the counters, the oldest from a walk of the oldest messages
     * that stops when every domain has met its own (see {@code AdminRows.domainSnapshot}): for a periodic refresh of
     * the gauges, never for a scrape.
     *
     * @throws IllegalStateException when the queue is closed or the database fails
     */
    public DomainSnapshot domainSnapshot() {
        return domainSnapshot(null);
    }

    /**
     * As {@link #domainSnapshot()}, with each domain's due recipients (QUEUED, DEFERRED) of messages received at or
     * before {@code expiringReceivedBefore}: those that expire within {@code queue.expiry-warning}, for the gauge. None
     * are counted when it is null. The count rides on the walk for the oldest message, which goes on while the
     * messages are that old.
     */
    public DomainSnapshot domainSnapshot(Instant expiringReceivedBefore) {
        return query("domain snapshot", c -> AdminRows.domainSnapshot(c, counters.byDomain(), expiringReceivedBefore));
    }

    /** See {@link #domainSnapshot(Instant)}. */
    public record DomainSnapshot(Map<String, Map<RecipientState, Long>> recipients, Map<String, Instant> oldestPending,
            Map<String, Long> expiring) {
    }

    /** Database connections in use now: H2's connection pool has no Micrometer binder, so the queue reports it. */
    public int activeDatabaseConnections() {
        return db.activeConnections();
    }

    /** The queue's directory, absolute. */
    public Path directory() {
        return dir;
    }

    /** Group-commit fsync rounds so far; under concurrent commits far fewer than {@link #groupCommitRequests()}. */
    public long groupCommitRounds() {
        return groupCommit.rounds();
    }

    /** Commits and deletions that waited for a group-commit fsync. */
    public long groupCommitRequests() {
        return groupCommit.requests();
    }

    /** Entries in {@code quarantine/}: files the queue could not read, kept for the admin. */
    public long quarantined() {
        return quarantine.count();
    }

    /** Bytes of {@code queue.mv.db} now. */
    public long databaseFileSize() {
        return db.fileSize();
    }

    /** The live-data estimate the compaction decision uses. */
    public long liveDataEstimate() throws QueueException {
        return maintenanceCall(() -> maintenance.compactor().liveEstimate());
    }

    /**
     * Runs the maintenance check now, in this thread: compacts when the file is larger than {@code compact-ratio} ×
     * the live data and than {@code compact-min-size}. It also runs by itself every 2000 commits and deletions, and
     * every 5 minutes.
     */
    public Optional<Compaction> maintain() throws QueueException {
        return maintenanceCall(maintenance::runCheck);
    }

    /** Compacts now, due or not. */
    public Compaction compact() throws QueueException {
        return maintenanceCall(maintenance::compactNow);
    }

    /** Compactions since open. */
    public long compactions() {
        return maintenance.compactions();
    }

    /** The maintenance: its compactions, with how long each kept the database offline (benchmarks). */
    Maintenance maintenance() {
        return maintenance;
    }

    /** The database itself (tests that take it offline as maintenance does). */
    QueueDatabase database() {
        return db;
    }

    /** Runs {@code work} on the database (benchmarks: row counts). */
    <T> T read(QueueDatabase.SqlWork<T> work) throws QueueException, SQLException {
        return db.read(work);
    }

    @Override
    public void close() {
        if (!lifecycle.close()) {
            return;
        }
        writability.close();
        maintenance.close();
        enqueuer.abortAll();
        deliveries.releaseAtClose(); // before the last checkpoint, so it is on disk
        groupCommit.close();
        db.close();
        lock.close();
        LOG.info("queue at {} closed: {} messages", dir, counters.messages());
    }

    private <T> T query(String what, QueueDatabase.SqlWork<T> work) {
        if (!lifecycle.tryEnter()) {
            throw new IllegalStateException("queue: " + what + ": the queue is closed");
        }
        try {
            return db.read(work);
        } catch (SQLException | QueueException e) {
            throw new IllegalStateException("queue: " + what + " failed: " + e, e);
        } finally {
            lifecycle.exit();
        }
    }

    private interface MaintenanceWork<T> {
        T run() throws QueueException, SQLException, IOException;
    }

    private <T> T maintenanceCall(MaintenanceWork<T> work) throws QueueException {
        lifecycle.enter("maintenance");
        try {
            return work.run();
        } catch (SQLException | IOException e) {
            throw StorageFailure.of("queue maintenance", e, disk, 0);
        } finally {
            lifecycle.exit();
        }
    }
}
