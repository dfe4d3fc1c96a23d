-- The rollup views group on one 64-bit hash of the names enrichment writes (exporter_name, in_portgroup,
-- out_portgroup, vip, vip_leg, backend) instead of on the six strings, and carry the names with any(). ClickHouse
-- groups several LowCardinality(String) keys by copying each row's strings into a serialized key; bench/enrich
-- measured that at about 0.3 µs a flow once the names are not empty (10k-dvPort inventory, 500 VIPs), nearly all of
-- what the enriched names cost ClickHouse (the `flows` insert itself costs the same with them or without).
-- The rows are the same: within a group every other key is equal and rows with equal names have equal hashes, so
-- any() returns the group's names. Two different sets of names in the same minute, exporter, interfaces, protocol,
-- VLANs, direction and ToS would have to collide in 64 bits to be merged. The tables and their sort keys are
-- unchanged, so merges still sum by the names.
DROP VIEW IF EXISTS flows_1m_mv {{on_cluster}};
DROP VIEW IF EXISTS flows_5m_mv {{on_cluster}};
DROP VIEW IF EXISTS flows_1h_mv {{on_cluster}};

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1m_mv {{on_cluster}} TO flows_1m AS
SELECT toStartOfMinute(first) AS time, exporter, version, domain, any(exporter_name) AS exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos,
       any(in_portgroup) AS in_portgroup, any(out_portgroup) AS out_portgroup, any(vip) AS vip, any(vip_leg) AS vip_leg, any(backend) AS backend, duplicate,
       any(in_vm) AS in_vm, any(out_vm) AS out_vm,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes, min(first) AS first_seen, max(last) AS last_seen
FROM (SELECT *, cityHash64(exporter_name, in_portgroup, out_portgroup, vip, vip_leg, backend) AS name_key FROM flows)
GROUP BY time, exporter, version, domain, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, name_key, duplicate;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_5m_mv {{on_cluster}} TO flows_5m AS
SELECT toStartOfFiveMinutes(time) AS time, exporter, version, domain, any(exporter_name) AS exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos,
       any(in_portgroup) AS in_portgroup, any(out_portgroup) AS out_portgroup, any(vip) AS vip, any(vip_leg) AS vip_leg, any(backend) AS backend, duplicate,
       any(in_vm) AS in_vm, any(out_vm) AS out_vm,
       sum(flows) AS flows, sum(packets) AS packets, sum(bytes) AS bytes, min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM (SELECT *, cityHash64(exporter_name, in_portgroup, out_portgroup, vip, vip_leg, backend) AS name_key FROM flows_1m)
GROUP BY time, exporter, version, domain, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, name_key, duplicate;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1h_mv {{on_cluster}} TO flows_1h AS
SELECT toStartOfHour(time) AS time, exporter, version, domain, any(exporter_name) AS exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos,
       any(in_portgroup) AS in_portgroup, any(out_portgroup) AS out_portgroup, any(vip) AS vip, any(vip_leg) AS vip_leg, any(backend) AS backend, duplicate,
       any(in_vm) AS in_vm, any(out_vm) AS out_vm,
       sum(flows) AS flows, sum(packets) AS packets, sum(bytes) AS bytes, min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM (SELECT *, cityHash64(exporter_name, in_portgroup, out_portgroup, vip, vip_leg, backend) AS name_key FROM flows_5m)
GROUP BY time, exporter, version, domain, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, name_key, duplicate;
