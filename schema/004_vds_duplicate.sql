-- A VM-to-VM flow inside one dvSwitch is recorded twice when the two VMs sit on different hosts: at the
-- sender's host (VM port in, uplink out) and at the receiver's host (uplink in, VM port out). The enricher
-- marks the second sighting (it came in from an uplink, and its source MAC or address is a VM port of the
-- same dvSwitch) with duplicate = 1, so `not duplicate` counts each such flow once. Rollups keep it as a
-- dimension so de-duplicated charts can use them.
ALTER TABLE flows {{on_cluster}} ADD COLUMN IF NOT EXISTS duplicate UInt8 DEFAULT 0 AFTER backend;

DROP VIEW IF EXISTS flows_1m_mv {{on_cluster}};
DROP VIEW IF EXISTS flows_5m_mv {{on_cluster}};
DROP VIEW IF EXISTS flows_1h_mv {{on_cluster}};

ALTER TABLE flows_1m {{on_cluster}} ADD COLUMN IF NOT EXISTS duplicate UInt8 AFTER backend,
    MODIFY ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate);
ALTER TABLE flows_5m {{on_cluster}} ADD COLUMN IF NOT EXISTS duplicate UInt8 AFTER backend,
    MODIFY ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate);
ALTER TABLE flows_1h {{on_cluster}} ADD COLUMN IF NOT EXISTS duplicate UInt8 AFTER backend,
    MODIFY ORDER BY (time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate);

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1m_mv {{on_cluster}} TO flows_1m AS
SELECT toStartOfMinute(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if,
       src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction,
         src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_5m_mv {{on_cluster}} TO flows_5m AS
SELECT toStartOfFiveMinutes(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if,
       src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction,
         src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1h_mv {{on_cluster}} TO flows_1h AS
SELECT toStartOfHour(first) AS time, exporter, version, domain, exporter_name, source, proto, in_if, out_if,
       src_vlan, dst_vlan, direction, src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate,
       count() AS flows, sum(packets) AS packets, sum(bytes) AS bytes
FROM flows
GROUP BY time, exporter, version, domain, exporter_name, source, proto, in_if, out_if, src_vlan, dst_vlan, direction,
         src_tos, in_portgroup, out_portgroup, vip, vip_leg, backend, duplicate;
