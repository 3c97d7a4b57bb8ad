#pragma once
// The consumer's metrics, shared by consumer.cpp (one event) and consumer_batch.cpp.
#include "sales/events/consumer.hpp"

namespace sales::events {

struct Consumer::Counters {
  Counters(metrics::Registry& r, const std::string& q)
      : consumed(r.counter("sales_events_consumed_total", "Events applied by a consumer", {{"queue", q}})),
        duplicates(r.counter("sales_events_duplicates_total", "Redelivered events acknowledged without effect",
                             {{"queue", q}})),
        retried(r.counter("sales_events_retried_total", "Failed events scheduled for another attempt", {{"queue", q}})),
        contention(r.counter("sales_events_contention_retries_total",
                             "Events retried, spending no attempt, because the database gave up waiting "
                             "(statement or lock timeout, cancel, deadlock, serialization failure)",
                             {{"queue", q}})),
        poison(r.counter("sales_events_dead_lettered_total", "Events sent to the dead-letter queue",
                         {{"queue", q}, {"reason", "poison"}})),
        exhausted(r.counter("sales_events_dead_lettered_total", "Events sent to the dead-letter queue",
                            {{"queue", q}, {"reason", "exhausted"}})),
        unhandled(r.counter("sales_events_unhandled_total",
                            "Deliveries of a type this consumer has no handler for (retried, at last dead-lettered)",
                            {{"queue", q}})),
        handle_seconds(r.histogram("sales_events_handle_seconds", "Time to apply one event", {{"queue", q}})),
        connected(r.gauge("sales_events_consumer_connected", "1 while the consumer is subscribed", {{"queue", q}})) {}
  metrics::Counter& consumed;
  metrics::Counter& duplicates;
  metrics::Counter& retried;
  metrics::Counter& contention;  // a part of retried
  metrics::Counter& poison;
  metrics::Counter& exhausted;
  metrics::Counter& unhandled;
  metrics::Histogram& handle_seconds;
  metrics::Gauge& connected;
};

}  // namespace sales::events
