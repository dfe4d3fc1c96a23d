-- Exporter accounting per minute, as nfcapd keeps it per exporter: the daemon inserts deltas every few
-- seconds; rows of one minute merge by sum (counters) and min/max (first/last seen, templates, rate).
CREATE TABLE IF NOT EXISTS exporter_stats {{on_cluster}}
(
    minute          DateTime,
    exporter        IPv6,
    exporter_port   UInt16,
    version         UInt8,
    domain          UInt32,
    packets         SimpleAggregateFunction(sum, UInt64),
    flows           SimpleAggregateFunction(sum, UInt64),
    bytes           SimpleAggregateFunction(sum, UInt64),
    sequence_failures SimpleAggregateFunction(sum, UInt64),
    lost_flows      SimpleAggregateFunction(sum, UInt64),
    decode_errors   SimpleAggregateFunction(sum, UInt64),
    templates       SimpleAggregateFunction(max, UInt32),
    sampling_rate   SimpleAggregateFunction(max, UInt32),
    first_seen      SimpleAggregateFunction(min, DateTime64(3)),
    last_seen       SimpleAggregateFunction(max, DateTime64(3))
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, exporter, exporter_port, version, domain)
TTL minute + INTERVAL {{ttl_exporter_stats}};
