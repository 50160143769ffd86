package org.backstopmx.app;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.backstopmx.app.config.ConfigException;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.smtpin.RecipientDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the served domains and recipient lists while the appliance runs, without dropping a connection: on
 * {@code SIGHUP}, and when the configuration file or a {@code recipients-file} changes.
 *
 * <p>A reload loads the configuration again exactly as at start (file, then {@code BACKSTOP_*} overrides, then
 * validation). If it has problems, they are logged with their keys and the running configuration stays: a typo never
 * stops a running MX. Otherwise what can change live ({@link ReloadPlan}) is applied at once, and any other key that
 * changed is named in a warning: it takes effect at the next restart.
 *
 * <p>Files are watched by polling their modification time, size and file key (inode) every {@code interval}, not by a
 * {@code WatchService}: inotify does not see changes made on the other side of a bind mount, an NFS share or a
 * Kubernetes ConfigMap (whose files are swapped by renaming a symlinked directory), and polling a handful of
 * {@code stat} calls every few seconds costs nothing. A change is acted on once the file has stayed the same for one
 * interval, so an editor's half-written file is not loaded (a recipient list cut in half would refuse real
 * recipients with a permanent 550).
 *
 * <p>Every reload runs on one thread, so two never overlap. Nothing that goes wrong in a poll or a reload (an
 * {@link Error} included) ends the watching: it is reported to {@link Liveness} (logged once per run of failures) and
 * the next poll comes at its time. Thread-safe.
 */
final class ConfigReloader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);
    /** How often the watched files are looked at in production. */
    static final Duration POLL_INTERVAL = Duration.ofSeconds(5);

    /** Loads the configuration as at start. */
    @FunctionalInterface
    interface Source {
        BackstopConfig load() throws ConfigException;
    }

    /** Where the live part of a configuration is applied: {@link Appliance#reload}. */
    @FunctionalInterface
    interface Target {
        RecipientDirectory apply(BackstopConfig live);
    }

    private final Source source;
    private final Target target;
    private final Optional<Path> configFile;
    private final Set<String> startedWith;
    private final ScheduledExecutorService thread;
    private final Liveness.Loop loop;
    private final AtomicLong attempts = new AtomicLong();
    /** Written only on the reload thread. */
    private volatile BackstopConfig running;
    // the fields below are only touched on the reload thread
    private Map<Path, Object> acted;
    private Map<Path, Object> lastSeen;

    private ConfigReloader(Source source, Target target, BackstopConfig running, Optional<Path> configFile,
            Liveness.Loop loop) {
        this.source = source;
        this.loop = loop;
        this.target = target;
        this.running = running;
        this.configFile = configFile;
        this.startedWith = Set.copyOf(running.domains().keySet());
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "config-reload");
            t.setDaemon(true);
            return t;
        });
        this.acted = fingerprints(watched(running));
        this.lastSeen = acted;
    }

    /**
     * Starts watching.
     *
     * @param running    the configuration the appliance was started with
     * @param configFile the file {@code source} reads, if any
     * @param interval   how often the files are looked at
     */
    static ConfigReloader start(Source source, Target target, BackstopConfig running, Optional<Path> configFile,
            Duration interval) {
        return start(source, target, running, configFile, interval, new Liveness(java.time.Clock.systemUTC()));
    }

    /** As {@link #start(Source, Target, BackstopConfig, Optional, Duration)}, polling as {@code config-reload}. */
    static ConfigReloader start(Source source, Target target, BackstopConfig running, Optional<Path> configFile,
            Duration interval, Liveness liveness) {
        // a poll is a few stat calls, a reload reads the recipient files: minutes mean it is stuck
        Liveness.Loop loop = liveness.register("config-reload", interval.plus(Duration.ofMinutes(5)));
        ConfigReloader r = new ConfigReloader(Objects.requireNonNull(source, "source"),
                Objects.requireNonNull(target, "target"), running, configFile, loop);
        r.thread.scheduleWithFixedDelay(r::poll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return r;
    }

    /** The files watched now, for the log. */
    String describeWatched() {
        return watched(running).stream().map(Path::toString).reduce((a, b) -> a + ", " + b).orElse("(none)");
    }

    /** Reloads as soon as the reload thread is free (SIGHUP); returns at once. */
    void reloadSoon(String trigger) {
        try {
            thread.execute(() -> reload(trigger));
        } catch (RejectedExecutionException e) {
            LOG.info("config reload ({}) ignored: shutting down", trigger);
        }
    }

    /** Reloads finished so far, whatever came of them (for tests). */
    long attempts() {
        return attempts.get();
    }

    /** The timer's task: never lets anything out, which would cancel every later poll. */
    private void poll() {
        loop.beat();
        try {
            Map<Path, Object> now = fingerprints(watched(running));
            boolean changed = !now.equals(acted);
            boolean settled = now.equals(lastSeen);
            lastSeen = now;
            boolean ok = !(changed && settled) || reload("changed: " + String.join(", ", changedFiles(acted, now)));
            if (ok) {
                loop.succeeded();
            }
        } catch (Throwable t) {
            loop.failed("config reload: watching the configuration files", t); // keeps polling
        }
    }

    /** Reloads; false when that failed unexpectedly (the running configuration stays, the next poll tries again). */
    private boolean reload(String trigger) {
        try {
            tryReload(trigger);
            return true;
        } catch (Throwable t) {
            loop.failed("config reload (" + trigger + ")", t);
            return false;
        } finally {
            attempts.incrementAndGet();
        }
    }

    private void tryReload(String trigger) {
        // Taken before loading: a change made while loading is seen by the next poll.
        Map<Path, Object> before = fingerprints(watched(running));
        BackstopConfig loaded;
        try {
            loaded = source.load();
        } catch (ConfigException e) {
            acted = before; // do not retry until a file changes again
            LOG.error("config reload ({}) failed, the running configuration stays: {}", trigger,
                    String.join("; ", e.problems()));
            return;
        } catch (RuntimeException e) {
            acted = before;
            LOG.error("config reload ({}) failed, the running configuration stays", trigger, e);
            return;
        }
        ReloadPlan plan = ReloadPlan.of(running, loaded);
        RecipientDirectory served;
        try {
            served = target.apply(plan.live());
        } catch (IllegalArgumentException e) {
            acted = before;
            LOG.error("config reload ({}) failed, the running configuration stays: {}", trigger, e.getMessage());
            return;
        }
        running = plan.live();
        // the files of the new configuration (a recipients-file may have been added or removed)
        acted = fingerprints(watched(running));
        lastSeen = acted;
        LOG.info("config reloaded: domains={}, recipients={} ({})", String.join(",", new TreeSet<>(served.domains())),
                served.listedRecipients(), trigger);
        if (!plan.needRestart().isEmpty()) {
            LOG.warn("config reload: changed keys that take effect only after a restart: {}",
                    String.join(", ", plan.needRestart()));
        }
        Set<String> added = new TreeSet<>(running.domains().keySet());
        added.removeAll(startedWith);
        if (!added.isEmpty()) {
            LOG.info("config reload: {} served since the reload; the queue and delivery metrics count them under"
                    + " domain=\"other\" until the next restart", String.join(",", added));
        }
    }

    /** The configuration file and every recipients-file the configuration names. */
    private Set<Path> watched(BackstopConfig config) {
        Set<Path> files = new LinkedHashSet<>();
        configFile.ifPresent(files::add);
        for (DomainConfig d : config.domains().values()) {
            if (d.recipientsFile() != null) {
                files.add(d.recipientsFile());
            }
        }
        return files;
    }

    /** Per file: modification time, size and file key, or "missing". */
    private static Map<Path, Object> fingerprints(Set<Path> files) {
        Map<Path, Object> out = new LinkedHashMap<>();
        for (Path f : files) {
            try {
                BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                out.put(f, List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey())));
            } catch (IOException e) {
                out.put(f, "missing");
            }
        }
        return out;
    }

    private static List<String> changedFiles(Map<Path, Object> before, Map<Path, Object> now) {
        return now.keySet().stream().filter(f -> !Objects.equals(before.get(f), now.get(f))).map(Path::toString)
                .toList();
    }

    /** Stops watching after the poll or reload under way, if any (not interrupted: it may be applying a reload). */
    @Override
    public void close() {
        thread.shutdown();
        try {
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("config reload: a reload still runs after 5 s; stopping without it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        loop.stopped();
    }
}
