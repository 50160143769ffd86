package org.backstopmx.app;

import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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
        Appliance appliance;
        try {
            appliance = Appliance.start(cfg, Clock.systemUTC());
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("backstop: cannot start: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            appliance.close();
            stopped.countDown();
            // SIGTERM is the normal way to stop: once everything is closed, exit 0 rather than the JVM's 143
            Runtime.getRuntime().halt(0);
        }, "shutdown"));
        stopped.await();
        return 0;
    }
}
