package org.backstopmx.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.backstopmx.app.config.Configs.load;

import java.nio.file.Path;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.SpfPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code screen.spf} and {@code screen.bounce-only-spf-pass} as YAML writes them. */
class SpfKeysTest {
    @TempDir
    Path dir;

    @Test
    void spfIsTaggedByDefaultAndABareOffTurnsItOff() throws Exception {
        assertThat(load(dir, "").screen().spf()).isEqualTo(SpfPolicy.TAG);
        assertThat(load(dir, "").screen().bounceOnlySpfPass()).isFalse();
        // YAML 1.1 reads off as false and yes as true
        ScreenConfig off = load(dir, "screen: { spf: off, bounce-only-spf-pass: yes }\n").screen();
        assertThat(off.spf()).isEqualTo(SpfPolicy.OFF);
        assertThat(off.bounceOnlySpfPass()).isTrue();
        assertThat(load(dir, "screen: { spf: Enforce }\n").screen().spf()).isEqualTo(SpfPolicy.ENFORCE);
    }
}
