package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AppCDS archive as the start paths use it, with the jar as built: {@code train} under
 * {@code -XX:ArchiveClassesAtExit} writes one, and {@code serve} with {@code -XX:SharedArchiveFile} maps its classes
 * from it; an archive that is missing, or was written for another jar, is skipped and the appliance starts all the
 * same (the image's entry point and the systemd unit rely on both).
 */
class ClassArchiveIT {
    /** Far fewer than the archive of a real training run holds (about 1 900), far more than the JDK's own start. */
    private static final int MAPPED_AT_LEAST = 500;

    @TempDir
    Path dir;

    @Test
    void theTrainingRunWritesAnArchiveThatServeLoadsItsClassesFrom() throws Exception {
        Path archive = dir.resolve("backstop.jsa");

        BackstopProcess.Result train = BackstopProcess.run(
                List.of("-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds=off", "-Xlog:cds+dynamic=off"),
                "train", "--messages", "40", "--sessions", "2");

        assertThat(train.exitCode()).as(train.output()).isZero();
        assertThat(train.output()).contains("training run: 40 messages accepted and delivered over 2 sessions");
        assertThat(archive).isNotEmptyFile();
        try (BackstopProcess backstop = BackstopProcess.serve(config(), "-XX:SharedArchiveFile=" + archive,
                "-Xshare:auto", "-Xlog:class+load=info")) {
            assertThat(backstop.lines().stream().filter(l -> l.contains("source: shared objects file (top)")))
                    .as("classes mapped from the archive").hasSizeGreaterThan(MAPPED_AT_LEAST);
            assertThat(backstop.output()).doesNotContain("Unable to use shared archive");
        }
    }

    @Test
    void aMissingArchiveOrOneWrittenForAnotherJarIsSkippedAndTheApplianceStarts() throws Exception {
        try (BackstopProcess backstop = BackstopProcess.serve(config(),
                "-XX:SharedArchiveFile=" + dir.resolve("none.jsa"), "-Xshare:auto")) {
            assertThat(backstop.isAlive()).isTrue();
        }
        // written for a copy of the jar elsewhere: the class path it records is not the one that runs
        Path copy = Files.copy(BackstopProcess.JAR, dir.resolve("copy.jar"));
        Path stale = dir.resolve("stale.jsa");
        ProcessBuilder dump = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:ArchiveClassesAtExit=" + stale, "-Xlog:cds=off", "-Xlog:cds+dynamic=off", "-jar",
                copy.toString(), "--version").redirectErrorStream(true);
        Process p = dump.start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor()).isZero();
        assertThat(stale).isNotEmptyFile();

        try (BackstopProcess backstop = BackstopProcess.serve(config(), "-XX:SharedArchiveFile=" + stale,
                "-Xshare:auto")) {
            assertThat(backstop.isAlive()).isTrue();
            assertThat(backstop.output()).contains("Unable to use shared archive");
        }
    }

    private Path config() throws Exception {
        Path queue = dir.resolve("queue");
        Files.deleteIfExists(dir.resolve("backstop.yaml"));
        return Files.writeString(dir.resolve("backstop.yaml"), String.join("\n",
                "hostname: backstop.it.test",
                "smtp: { listen: 127.0.0.1:0 }",
                "domains:",
                "  example.test: { route: 127.0.0.1:9 }",
                "queue: { path: " + queue + " }",
                "metrics: { listen: 127.0.0.1:0 }",
                "admin: { listen: 127.0.0.1:0 }",
                "screen: { spf: off }",
                ""));
    }
}
