-- What a port-mirror capture says about a flow and NetFlow cannot: how its packets were carried to the sensor.
-- Filled for pcap-derived flows (source = 'pcap'), from the flow's first packet; 0 / '::' / '' for NetFlow.
--   encap           encapsulations peeled off, outermost first, comma separated: 'vlan,gre,erspan2', 'vxlan', 'qinq,vlan'
--   outer_src/dst   endpoints of the outermost tunnel (the GRE/ERSPAN/VXLAN/IP-in-IP carrier), '::' when none
--   outer_vlan      the first (outermost) 802.1Q/802.1ad tag of the frame, 0 when untagged
--   inner_vlan      the last (innermost) tag when the frame carried two or more, else 0 (src_vlan keeps the VLAN
--                   the flow is recorded on, as nfpcapd does)
--   mirror_session  ERSPAN session id (0-1023), 0 for none or ERSPAN type I
--   mirror_index    ERSPAN type II index / type III hardware id
--   gre_key         GRE key (or PPTP call id), 0 when none
--   fragments       non-first IP fragments attributed to the flow
ALTER TABLE flows {{on_cluster}}
    ADD COLUMN IF NOT EXISTS encap          LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS outer_src      IPv6 DEFAULT toIPv6('::'),
    ADD COLUMN IF NOT EXISTS outer_dst      IPv6 DEFAULT toIPv6('::'),
    ADD COLUMN IF NOT EXISTS outer_vlan     UInt16 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS inner_vlan     UInt16 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS mirror_session UInt16 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS mirror_index   UInt32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS gre_key        UInt32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS fragments      UInt32 DEFAULT 0;
