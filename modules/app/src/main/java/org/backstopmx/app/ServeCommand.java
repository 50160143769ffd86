package org.backstopmx.app;

import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.backstopmx.core.config.BackstopConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code serve}: runs the appliance until SIGTERM/SIGINT. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the appliance.")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws Exception {
        BackstopConfig cfg = config.loadOrReport().orElse(null);
        if (cfg == null) {
            return 2;
        }
        // The hook is in place before anything starts, so a SIGTERM that arrives while starting (the listener may
        // already be up) still ends in a clean close and exit 0 rather than the JVM's 143.
        AtomicReference<Appliance> running = new AtomicReference<>();
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
            appliance.close();
            stopped.countDown();
            Runtime.getRuntime().halt(0);
        }, "shutdown"));
        try {
            running.set(Appliance.start(cfg, Clock.systemUTC()));
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("backstop: cannot start: " + e.getMessage());
            return 1;
        } finally {
            started.countDown();
        }
        stopped.await();
        return 0;
    }
}
