-- Rollups keep the earliest flow start and the latest flow end of each row (first_seen, last_seen), so
-- nfdump's pps/bps/bpp columns and the summary's rates can be answered from a rollup exactly, not from the
-- raw table. SummingMergeTree does not merge SimpleAggregateFunction(min|max) columns by their function
-- (it keeps one row's value: checked on ClickHouse 26.7), so the rollups move to AggregatingMergeTree with
-- SimpleAggregateFunction(sum) counters; queries read them with sum()/min()/max() as before.
-- Rows already rolled up get their bucket's bounds (time, time + granularity) as first/last seen.

DROP VIEW IF EXISTS flows_1m_mv {{on_cluster}};
DROP VIEW IF EXISTS flows_5m_mv {{on_cluster}};
DROP VIEW IF EXISTS flows_1h_mv {{on_cluster}};

CREATE TABLE IF NOT EXISTS flows_1m_v2 {{on_cluster}}
(
    time          DateTime,
    exporter      IPv6,
    version       UInt8,
    domain        UInt32,
    exporter_name LowCardinality(String),
    source        Enum8('netflow' = 1, 'pcap' = 2),
    proto         UInt8,
    in_if         UInt32,
    out_if        UInt32,
    src_vlan      UInt16,
    dst_vlan      UInt16,
    direction     UInt8,
    src_tos       UInt8,
    in_portgroup  LowCardinality(String),
    out_portgroup LowCardinality(String),
    vip           LowCardinality(String),
    vip_leg       LowCardinality(String),
    backend       LowCardinality(String),
    duplicate     UInt8,
    flows         SimpleAggregateFunction(sum, UInt64),
    packets       SimpleAggregateFunction(sum, UInt64),
    bytes         SimpleAggregateFunction(sum, UInt64),
    first_seen    SimpleAggregateFunction(min, DateTime64(3)),
    last_seen     SimpleAggregateFunction(max, DateTime64(3))
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMMDD(time)
ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate)
TTL time + INTERVAL {{ttl_flows_1m}};

INSERT INTO flows_1m_v2 SELECT time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, flows, packets, bytes, toDateTime64(time, 3), toDateTime64(time + INTERVAL 1 MINUTE, 3) FROM flows_1m;

RENAME TABLE flows_1m TO flows_1m_pre006, flows_1m_v2 TO flows_1m {{on_cluster}};

DROP TABLE flows_1m_pre006 {{on_cluster}} SYNC;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1m_mv {{on_cluster}} TO flows_1m AS
SELECT toStartOfMinute(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes, min(first) AS first_seen, max(last) AS last_seen
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate;

CREATE TABLE IF NOT EXISTS flows_5m_v2 {{on_cluster}}
(
    time          DateTime,
    exporter      IPv6,
    version       UInt8,
    domain        UInt32,
    exporter_name LowCardinality(String),
    source        Enum8('netflow' = 1, 'pcap' = 2),
    proto         UInt8,
    in_if         UInt32,
    out_if        UInt32,
    src_vlan      UInt16,
    dst_vlan      UInt16,
    direction     UInt8,
    src_tos       UInt8,
    in_portgroup  LowCardinality(String),
    out_portgroup LowCardinality(String),
    vip           LowCardinality(String),
    vip_leg       LowCardinality(String),
    backend       LowCardinality(String),
    duplicate     UInt8,
    flows         SimpleAggregateFunction(sum, UInt64),
    packets       SimpleAggregateFunction(sum, UInt64),
    bytes         SimpleAggregateFunction(sum, UInt64),
    first_seen    SimpleAggregateFunction(min, DateTime64(3)),
    last_seen     SimpleAggregateFunction(max, DateTime64(3))
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(time)
ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate)
TTL time + INTERVAL {{ttl_flows_5m}};

INSERT INTO flows_5m_v2 SELECT time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, flows, packets, bytes, toDateTime64(time, 3), toDateTime64(time + INTERVAL 5 MINUTE, 3) FROM flows_5m;

RENAME TABLE flows_5m TO flows_5m_pre006, flows_5m_v2 TO flows_5m {{on_cluster}};

DROP TABLE flows_5m_pre006 {{on_cluster}} SYNC;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_5m_mv {{on_cluster}} TO flows_5m AS
SELECT toStartOfFiveMinutes(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes, min(first) AS first_seen, max(last) AS last_seen
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate;

CREATE TABLE IF NOT EXISTS flows_1h_v2 {{on_cluster}}
(
    time          DateTime,
    exporter      IPv6,
    version       UInt8,
    domain        UInt32,
    exporter_name LowCardinality(String),
    source        Enum8('netflow' = 1, 'pcap' = 2),
    proto         UInt8,
    in_if         UInt32,
    out_if        UInt32,
    src_vlan      UInt16,
    dst_vlan      UInt16,
    direction     UInt8,
    src_tos       UInt8,
    in_portgroup  LowCardinality(String),
    out_portgroup LowCardinality(String),
    vip           LowCardinality(String),
    vip_leg       LowCardinality(String),
    backend       LowCardinality(String),
    duplicate     UInt8,
    flows         SimpleAggregateFunction(sum, UInt64),
    packets       SimpleAggregateFunction(sum, UInt64),
    bytes         SimpleAggregateFunction(sum, UInt64),
    first_seen    SimpleAggregateFunction(min, DateTime64(3)),
    last_seen     SimpleAggregateFunction(max, DateTime64(3))
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(time)
ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate)
TTL time + INTERVAL {{ttl_flows_1h}};

INSERT INTO flows_1h_v2 SELECT time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate, flows, packets, bytes, toDateTime64(time, 3), toDateTime64(time + INTERVAL 1 HOUR, 3) FROM flows_1h;

RENAME TABLE flows_1h TO flows_1h_pre006, flows_1h_v2 TO flows_1h {{on_cluster}};

DROP TABLE flows_1h_pre006 {{on_cluster}} SYNC;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1h_mv {{on_cluster}} TO flows_1h AS
SELECT toStartOfHour(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes, min(first) AS first_seen, max(last) AS last_seen
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate;
