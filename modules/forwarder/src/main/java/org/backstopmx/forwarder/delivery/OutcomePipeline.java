package org.backstopmx.forwarder.delivery;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;

/**
 * Lets one worker's connection carry its next message while the outcome of the last one is being made durable.
 *
 * <p>Recording an outcome waits for the queue's group commit (a database fsync, 50–100 ms under a draining backlog),
 * far longer than relaying a message to the primary over an open connection. A worker that waited for it before
 * sending the next message carried at most one message per commit: a drain bound by the commit's latency, not by the
 * primary. Here the recording runs on the delivery pool instead, and the worker goes on, with at most
 * {@value #DEPTH} of its outcomes still being recorded: what is made durable together in one commit grows with the
 * number of connections times that depth.
 *
 * <p>Nothing is promised earlier than before: the sender got its {@code 250} long ago, and the primary's {@code 250}
 * is what the outcome records. A crash between the primary's reply and the commit delivers the message again, as it
 * always could. The job stays in flight, its leases held and renewed, until its outcome is recorded (or has failed to
 * be): only then is it {@code finished}, so no claim takes its recipients meanwhile and a clean stop waits for it
 * (the pool's termination). A pool that takes no more work (stopping) has the outcome recorded on the worker itself.
 *
 * <p>A worker whose lane is empty waits for its outcomes before it ends, as it did before any of this: mail passing
 * through one message at a time arrives meanwhile and is carried by the same worker and connection, rather than by a
 * new worker taking the connection out of the cache for each message.
 *
 * <p>One per worker; not thread-safe (its slots complete from pool threads, which only touch their own future).
 */
final class OutcomePipeline {
    /** Outcomes of one connection that may be on their way to the disk while it carries the next message. */
    static final int DEPTH = 4;

    private final Executor pool;
    private final BiConsumer<Job, Throwable> failed;
    private final Deque<CompletableFuture<Void>> pending = new ArrayDeque<>();

    /** @param failed told of a recording that threw (the outcome is then left to the job's lease) */
    OutcomePipeline(Executor pool, BiConsumer<Job, Throwable> failed) {
        this.pool = pool;
        this.failed = failed;
    }

    /** Whether an outcome of this worker's is still being recorded. */
    boolean pending() {
        pending.removeIf(CompletableFuture::isDone);
        return !pending.isEmpty();
    }

    /** Waits until the oldest outcome still being recorded is. */
    void awaitOldest() {
        CompletableFuture<Void> oldest = pending.poll();
        if (oldest != null) {
            oldest.join();
        }
    }

    /** The slot for the worker's next job, once fewer than {@value #DEPTH} of its outcomes are still pending. */
    Slot next(Job job) {
        pending.removeIf(CompletableFuture::isDone);
        while (pending.size() >= DEPTH) {
            pending.poll().join(); // never completes exceptionally: see Slot.execute
        }
        return new Slot(job);
    }

    /** Where one job's outcome is recorded: the {@link Executor} handed to {@link DeliveryAttempt#deliver}. */
    final class Slot implements Executor {
        private final Job job;
        private CompletableFuture<Void> recorded;

        private Slot(Job job) {
            this.job = job;
        }

        /** Runs the recording on the pool (or here, when the pool is stopping). At most once per slot. */
        @Override
        public void execute(Runnable recording) {
            if (recorded != null) {
                throw new IllegalStateException(job.id() + ": one recording per job");
            }
            CompletableFuture<Void> done = new CompletableFuture<>();
            recorded = done;
            Runnable task = () -> {
                try {
                    recording.run();
                } catch (Throwable t) {
                    failed.accept(job, t);
                } finally {
                    done.complete(null);
                }
            };
            try {
                pool.execute(task);
                pending.add(done);
            } catch (RejectedExecutionException e) {
                task.run();
            }
        }

        /** Runs {@code then} once the job's outcome is recorded: now, if it was recorded on the worker or not at all. */
        void whenRecorded(Runnable then) {
            if (recorded == null) {
                then.run();
            } else {
                recorded.whenComplete((v, t) -> then.run());
            }
        }
    }
}
