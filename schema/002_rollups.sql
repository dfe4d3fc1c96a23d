-- Rollups at 1 minute, 5 minutes and 1 hour, fed by materialized views on `flows`. Each row keeps a
-- `flows` counter: a rollup row stands for many flows, so counting rows would undercount (Akvorado's bug).
-- Dimensions are the low-cardinality ones the dashboard splits by and `-s proto`-like statistics use.
CREATE TABLE IF NOT EXISTS flows_1m {{on_cluster}}
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
    flows         UInt64,
    packets       UInt64,
    bytes         UInt64
)
ENGINE = {{engine:SummingMergeTree}}((flows, packets, bytes))
PARTITION BY toYYYYMMDD(time)
ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend)
TTL time + INTERVAL {{ttl_flows_1m}};

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1m_mv {{on_cluster}} TO flows_1m AS
SELECT toStartOfMinute(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if,
       src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction,
         src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend;

CREATE TABLE IF NOT EXISTS flows_5m {{on_cluster}} AS flows_1m
ENGINE = {{engine:SummingMergeTree}}((flows, packets, bytes))
PARTITION BY toYYYYMM(time)
ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend)
TTL time + INTERVAL {{ttl_flows_5m}};

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_5m_mv {{on_cluster}} TO flows_5m AS
SELECT toStartOfFiveMinutes(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if,
       src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction,
         src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend;

CREATE TABLE IF NOT EXISTS flows_1h {{on_cluster}} AS flows_1m
ENGINE = {{engine:SummingMergeTree}}((flows, packets, bytes))
PARTITION BY toYYYYMM(time)
ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend)
TTL time + INTERVAL {{ttl_flows_1h}};

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1h_mv {{on_cluster}} TO flows_1h AS
SELECT toStartOfHour(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if,
       src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction,
         src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend;
