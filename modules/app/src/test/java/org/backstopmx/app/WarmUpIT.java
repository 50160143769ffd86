package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --warm-up N}, with the jar as built: the scratch appliance takes and delivers its N messages before
 * the real one starts, and none of them reaches the real queue.
 */
class WarmUpIT {
    @TempDir
    Path dir;

    @Test
    void theWarmUpRunsBeforeTheRealApplianceStartsAndLeavesItsQueueEmpty() throws Exception {
        Path config = Files.writeString(dir.resolve("backstop.yaml"), String.join("\n",
                "hostname: backstop.it.test",
                "smtp: { listen: 127.0.0.1:0 }",
                "domains:",
                "  example.test: { route: 127.0.0.1:9 }",
                "queue: { path: " + dir.resolve("queue") + " }",
                "metrics: { listen: 127.0.0.1:0 }",
                "admin: { listen: 127.0.0.1:0 }",
                "screen: { spf: off }",
                ""));

        try (BackstopProcess backstop = BackstopProcess.serve(config, List.of(), "--warm-up", "20")) {
            await().atMost(Duration.ofSeconds(120))
                    .until(() -> backstop.output().contains("Backstop MX started: backstop.it.test"));
            List<String> lines = backstop.lines();
            int warmedUp = indexOf(lines, "warm-up: 20 messages through a scratch appliance");
            int started = indexOf(lines, "Backstop MX started: backstop.it.test");

            assertThat(warmedUp).as(backstop.output()).isNotNegative().isLessThan(started);
            int scratch = indexOf(lines, "Backstop MX started: backstop.training.test");
            assertThat(scratch).isNotNegative().isLessThan(warmedUp);
            // its queue is elsewhere: the start line names it
            assertThat(lines.get(scratch)).doesNotContain(dir.toString());
            assertThat(lines.get(started)).contains(dir.resolve("queue").toString());
            assertThat(backstop.stop()).isZero();
        }
        BackstopProcess.Result stats = BackstopProcess.run("stats", "--config", config.toString(), "--offline",
                "--json");

        assertThat(stats.exitCode()).as(stats.output()).isZero();
        assertThat(stats.output()).containsPattern("\"messages\"\\s*:\\s*0\\b");
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }
}
