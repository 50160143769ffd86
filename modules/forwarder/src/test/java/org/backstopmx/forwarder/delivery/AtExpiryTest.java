package org.backstopmx.forwarder.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.RecipientState;
import org.backstopmx.core.config.AtExpiry;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.QueueConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code queue.at-expiry}: at the end of {@code queue.lifetime} a recipient bounces, or is held for the admin. */
class AtExpiryTest {
    @TempDir
    Path dir;

    private ConfiguredForwarder rig;

    @AfterEach
    void stop() throws Exception {
        rig.close();
    }

    @Test
    void withHoldAnExpiredRecipientIsHeldWithoutABounceAndGoesOutWhenReleased() throws Exception {
        rig = start(AtExpiry.HOLD);
        rig.primary.stop();
        QueueId id = rig.put("alice@example.org");
        rig.forwarder.deliverDue();
        rig.clock.advance(ConfiguredForwarder.LIFETIME);
        rig.forwarder.deliverDue();

        assertThat(state(id)).isEqualTo(RecipientState.HELD);
        assertThat(rig.senderMx.transactions()).as("no bounce").isEmpty();
        rig.clock.advance(Duration.ofDays(3));
        rig.forwarder.deliverDue();
        assertThat(state(id)).as("a held recipient is not tried").isEqualTo(RecipientState.HELD);

        rig.primary.restart();
        assertThat(rig.forwarder.release(id)).contains(1);
        rig.forwarder.flush("example.org"); // the destination was marked down: the flush marks it up
        rig.forwarder.deliverDue();
        assertThat(rig.primary.transactions()).hasSize(1);
        assertThat(rig.queue.list(10)).isEmpty();
        assertThat(rig.senderMx.transactions()).isEmpty();
    }

    @Test
    void withBounceTheDefaultAnExpiredRecipientBounces() throws Exception {
        rig = start(AtExpiry.BOUNCE);
        rig.primary.stop();
        rig.put("alice@example.org");
        rig.forwarder.deliverDue();
        rig.clock.advance(ConfiguredForwarder.LIFETIME);
        rig.forwarder.deliverDue();

        assertThat(rig.senderMx.transactions()).hasSize(1);
        assertThat(rig.queue.list(10)).isEmpty();
    }

    private ConfiguredForwarder start(AtExpiry atExpiry) throws Exception {
        return new ConfiguredForwarder(dir, DomainConfig.acceptAll("example.org"),
                QueueConfig.defaults().withAtExpiry(atExpiry), BackstopConfig.defaults());
    }

    private RecipientState state(QueueId id) {
        QueuedMessage m = rig.queue.list(10).stream().filter(q -> q.id().equals(id)).findFirst().orElseThrow();
        return m.recipients().get(0).state();
    }
}
