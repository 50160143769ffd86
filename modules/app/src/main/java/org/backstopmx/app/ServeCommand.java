package org.backstopmx.app;

import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.backstopmx.core.config.BackstopConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code serve}: runs the appliance until SIGTERM/SIGINT; reloads the served domains and recipients on SIGHUP and when
 * the configuration or a recipient file changes ({@link ConfigReloader}).
 */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the appliance.")
final class ServeCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Mixin
    ConfigOption config;

    @Option(names = "--warm-up", paramLabel = "N", defaultValue = "0",
            description = "Before opening the listener, send N messages through a scratch appliance on 127.0.0.1 "
                    + "(the training run's workload; never the real queue), so that the first real mail finds the "
                    + "accept path compiled (default: ${DEFAULT-VALUE}, off).")
    int warmUp;

    @Override
    public Integer call() throws Exception {
        BackstopConfig cfg = config.loadOrReport().orElse(null);
        if (cfg == null) {
            return 2;
        }
        // The hook is in place before anything starts, so a SIGTERM that arrives while starting (the listener may
        // already be up) still ends in a clean close and exit 0 rather than the JVM's 143.
        AtomicReference<Appliance> running = new AtomicReference<>();
        AtomicReference<ConfigReloader> reloader = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                started.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Appliance appliance = running.get();
            if (appliance == null) {
                return; // it never started: keep the exit status of the failure
            }
            if (reloader.get() != null) {
                reloader.get().close(); // no reload may start on a closing appliance
            }
            appliance.close();
            stopped.countDown();
            Runtime.getRuntime().halt(0);
        }, "shutdown"));
        warmUp();
        try {
            Appliance appliance = Appliance.start(cfg, Clock.systemUTC());
            running.set(appliance);
            reloader.set(ConfigReloader.start(config::load, appliance::reload, cfg, config.path(),
                    ConfigReloader.POLL_INTERVAL, appliance.liveness()));
            onSighup(reloader.get());
            LOG.info("configuration reloaded on SIGHUP and when these files change: {}",
                    reloader.get().describeWatched());
        } catch (IllegalArgumentException | IllegalStateException | org.backstopmx.core.QueueException e) {
            System.err.println("backstop: cannot start: " + e.getMessage());
            return 1;
        } finally {
            started.countDown();
        }
        stopped.await();
        return 0;
    }

    /** The self-exercise of {@code --warm-up}: whatever goes wrong in it is logged, and the start goes on. */
    private void warmUp() {
        if (warmUp < 2) {
            return;
        }
        try {
            long took = TrainingRun.run(warmUp, 8, 4096);
            LOG.info("warm-up: {} messages through a scratch appliance in {} ms", warmUp, took);
        } catch (Exception e) {
            LOG.warn("warm-up failed, starting without it: {}", e.toString());
        }
    }

    /** SIGHUP reloads, as for most Unix daemons; without this handler it would stop the JVM like SIGTERM. */
    private static void onSighup(ConfigReloader reloader) {
        try {
            Signal.handle(new Signal("HUP"), signal -> reloader.reloadSoon("SIGHUP"));
        } catch (IllegalArgumentException e) {
            // the JVM runs with -Xrs, or the platform has no SIGHUP: changed files are still picked up
            LOG.warn("SIGHUP cannot be handled ({}); the configuration is still reloaded when its files change",
                    e.getMessage());
        }
    }
}
