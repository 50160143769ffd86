package org.backstopmx.smtpin;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.james.metrics.api.Metric;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.reactivestreams.Publisher;

/**
 * The metric factory James's command handlers insist on. They only time commands; Backstop's own meters are kept
 * elsewhere, so these timings are not recorded.
 */
final class QuietMetrics implements MetricFactory {
    private static final TimeMetric.ExecutionResult NOTHING = new TimeMetric.ExecutionResult() {
        @Override
        public Duration elasped() {
            return Duration.ZERO;
        }

        @Override
        public TimeMetric.ExecutionResult logWhenExceedP99(Duration threshold) {
            return this;
        }
    };

    @Override
    public Metric generate(String name) {
        AtomicLong count = new AtomicLong();
        return new Metric() {
            @Override
            public void increment() {
                count.incrementAndGet();
            }

            @Override
            public void decrement() {
                count.decrementAndGet();
            }

            @Override
            public void add(int value) {
                count.addAndGet(value);
            }

            @Override
            public void remove(int value) {
                count.addAndGet(-value);
            }

            @Override
            public long getCount() {
                return count.get();
            }
        };
    }

    @Override
    public TimeMetric timer(String name) {
        return new TimeMetric() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public ExecutionResult stopAndPublish() {
                return NOTHING;
            }
        };
    }

    @Override
    public <T> Publisher<T> decoratePublisherWithTimerMetric(String name, Publisher<T> publisher) {
        return publisher;
    }

    @Override
    public <T> Publisher<T> decoratePublisherWithTimerMetricLogP99(String name, Publisher<T> publisher) {
        return publisher;
    }
}
