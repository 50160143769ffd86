package org.backstopmx.app;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Clock;
import java.util.Optional;
import org.backstopmx.app.admin.AdminClient;
import org.backstopmx.app.admin.AdminToken;
import org.backstopmx.app.admin.QueueAdmin;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.config.BackstopConfig;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * How a queue command reaches the queue: the running appliance's admin API on {@code admin.listen} when something
 * listens there, otherwise the queue files of the stopped appliance (on the shared queue, {@code queue.type:
 * postgresql}, only the admin API of a running node: it sees every node's mail). The token comes from the configuration
 * ({@code admin.token}, {@code admin.token-file}) or the one the appliance generated in its queue directory.
 */
final class QueueAccess {
    @Mixin
    ConfigOption config;

    @Option(names = "--offline", description = "Work on the queue files even if an appliance seems to be running"
            + " (it fails while one holds the queue).")
    boolean offline;

    /** A command's body, given the way in. */
    interface Work {
        int run(QueueAdmin admin, PrintStream out) throws QueueException;
    }

    /** Runs {@code work} and returns the exit code: 0 done, 1 failed or not found, 2 configuration errors. */
    int run(Work work) {
        BackstopConfig cfg = config.loadOrReport().orElse(null);
        if (cfg == null) {
            return 2;
        }
        try (QueueAdmin admin = open(cfg)) {
            return work.run(admin, System.out);
        } catch (QueueException e) {
            System.err.println("backstop: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            System.err.println("backstop: " + e.getMessage());
            return 1;
        }
    }

    private QueueAdmin open(BackstopConfig cfg) throws IOException, QueueException {
        boolean shared = cfg.queue().type() == org.backstopmx.core.config.QueueType.POSTGRESQL;
        if (shared && offline) {
            throw new QueueException(QueueException.Kind.UNAVAILABLE, "queue.type is postgresql: the shared queue has"
                    + " no files to work on; the queue commands go through a running node's admin API");
        }
        if (!offline) {
            Optional<AdminClient> client = AdminClient.connect(cfg.admin().listen(), "");
            if (client.isPresent()) {
                Optional<String> token = AdminToken.forClient(cfg.admin(), cfg.queue().path());
                if (token.isEmpty()) {
                    throw new QueueException(QueueException.Kind.UNAVAILABLE, "the appliance answers on "
                            + client.get().where() + " but no admin token is configured for this command: set"
                            + " admin.token or admin.token-file (or run as the user that can read "
                            + cfg.queue().path().resolve(AdminToken.GENERATED) + ")");
                }
                return AdminClient.connect(cfg.admin().listen(), token.get()).orElseThrow(() -> new QueueException(
                        QueueException.Kind.UNAVAILABLE, "the admin API at " + cfg.admin().listen() + " went away"));
            }
        }
        if (shared) {
            // XXX: without a running node the commands could open the shared queue themselves; they do not yet
            throw new QueueException(QueueException.Kind.UNAVAILABLE, "queue.type is postgresql: no node answers on "
                    + cfg.admin().listen() + " (admin.listen); the queue commands go through a running node's admin"
                    + " API, and any node's sees the whole shared queue");
        }
        return new OfflineQueueAdmin(cfg, Clock.systemUTC());
    }
}
