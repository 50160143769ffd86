package org.backstopmx.forwarder.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The scheduler's signals: a job that finishes while nobody waits is still seen by the next sleep. */
class InFlightTest {
    @Test
    void aJobFinishedWhileTheSchedulerWasBusyCutsItsNextSleepShort() throws Exception {
        InFlight inFlight = new InFlight();
        inFlight.claimed(3);
        inFlight.done(3); // the scheduler was claiming, not waiting: nobody was signalled

        long start = System.nanoTime();
        inFlight.sleep(60_000);
        assertThat((System.nanoTime() - start) / 1_000_000).as("ms asleep").isLessThan(10_000);
        assertThat(inFlight.settledOrWait()).as("the wake was taken, nothing is in flight").isTrue();
    }
}
