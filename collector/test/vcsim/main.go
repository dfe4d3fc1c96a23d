// Command vcsim is govmomi's vCenter simulator (package simulator, Debian golang-github-vmware-govmomi-dev)
// seeded for dvflow's inventory tests, plus a stand-in for two govc commands that Debian does not package.
//
//	vcsim [-user U] [-pass P] [-http]
//	    Starts a VPX model (1 datacenter, 1 cluster of 2 hosts + 1 standalone host, 2 DVS portgroups, 2 VMs per
//	    host/pool), seeds it (see seed below), prints "URL <url>" (no credentials) and "READY" on stdout and
//	    serves until SIGTERM/SIGINT.
//	vcsim govc -u URL dvs.portgroup.info [-connected] [-active] [-uplinkPort] [-inside] DVS
//	vcsim govc -u URL object.collect -type w|g|m|h ROOT PROPERTY...
//	    Print what `govc dvs.portgroup.info -json ...` / `govc object.collect -json -type ...` print: the same
//	    govmomi calls (FetchDVPorts with govc's criteria; a ContainerView + WaitForUpdatesEx) and the same
//	    encoding (encoding/json of govc's result types, indented as GOVC_INDENT defaults to). URL carries the
//	    credentials, like GOVC_URL; certificates are not verified, like GOVC_INSECURE=1.
//
// Built offline by scripts/build-vcsim.sh with GOPATH=/usr/share/gocode and GO111MODULE=off.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/types"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "govc" {
		if err := govc(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "vcsim govc:", err)
			os.Exit(1)
		}
		return
	}
	if err := serve(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("vcsim", flag.ExitOnError)
	user := fs.String("user", "dvflow", "login user")
	pass := fs.String("pass", "dvflow-secret", "login password")
	plain := fs.Bool("http", false, "serve plain http instead of https with a self-signed certificate")
	_ = fs.Parse(args)

	model := simulator.VPX()
	model.Datacenter = 1
	model.Cluster = 1
	model.ClusterHost = 2
	model.Host = 1
	model.Portgroup = 2
	model.Machine = 2
	if err := model.Create(); err != nil {
		return err
	}
	defer model.Remove()

	if !*plain {
		model.Service.TLS = new(tls.Config)
	}
	model.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(*user, *pass)}
	server := model.Service.NewServer()
	defer server.Close()

	ctx := context.Background()
	client, err := govmomi.NewClient(ctx, server.URL, true)
	if err != nil {
		return err
	}
	if err := seed(ctx, client); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	_ = client.Logout(ctx)

	u := *server.URL
	u.User = nil
	fmt.Printf("URL %s\n", u.String())
	fmt.Println("READY")

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return nil
}

// seed shapes the VPX model into a small but real-looking dvSwitch estate.
//
// Through the SOAP API (what the simulator models): DC0_DVPG0 gets access VLAN 100, DC0_DVPG1 VLAN 200, a trunk
// portgroup DC0_TRUNK (VLAN 100-199) is added, DC0_H0_VM1's NIC moves to DC0_DVPG1, DC0_C0_RP0_VM0 gets a second
// NIC on DC0_DVPG1, and a second switch DC0_DVS_SIM with two portgroups of 4 ports each is created and left as
// the simulator makes it.
//
// Directly in the simulator's object registry (what govmomi 0.24's simulator does not model): DVS0's dvPorts as
// vCenter reports them (numeric keys unique in the switch, portgroupKey, connectee for VM NICs, host uplinks and a
// vmknic), the matching portKey in each VM NIC's backing, portgroup portKeys, the uplink portgroup in
// config.uplinkPortgroup, and the NetFlow/IPFIX settings (ReconfigureDvs_Task ignores ipfixConfig and
// switchIpAddress in this simulator).
func seed(ctx context.Context, c *govmomi.Client) error {
	finder := find.NewFinder(c.Client, true)
	dc, err := finder.Datacenter(ctx, "DC0")
	if err != nil {
		return err
	}
	finder.SetDatacenter(dc)

	network := func(name string) (object.NetworkReference, error) { return finder.Network(ctx, name) }

	vlanPg := func(name string, vlan types.BaseVmwareDistributedVirtualSwitchVlanSpec) error {
		n, err := network(name)
		if err != nil {
			return err
		}
		pg := n.(*object.DistributedVirtualPortgroup)
		task, err := pg.Reconfigure(ctx, types.DVPortgroupConfigSpec{
			Name: name,
			Type: string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding),
			DefaultPortConfig: &types.VMwareDVSPortSetting{
				Vlan: vlan,
			},
		})
		if err != nil {
			return err
		}
		return task.Wait(ctx)
	}
	if err := vlanPg("DC0_DVPG0", &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: 100}); err != nil {
		return err
	}
	if err := vlanPg("DC0_DVPG1", &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: 200}); err != nil {
		return err
	}

	n, err := network("DVS0")
	if err != nil {
		return err
	}
	dvs0 := n.(*object.DistributedVirtualSwitch)
	task, err := dvs0.AddPortgroup(ctx, []types.DVPortgroupConfigSpec{{
		Name: "DC0_TRUNK",
		Type: string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding),
		DefaultPortConfig: &types.VMwareDVSPortSetting{
			Vlan: &types.VmwareDistributedVirtualSwitchTrunkVlanSpec{VlanId: []types.NumericRange{{Start: 100, End: 199}}},
		},
	}})
	if err != nil {
		return err
	}
	if err := task.Wait(ctx); err != nil {
		return err
	}

	// VM NICs: move one, add one.
	pg1, err := network("DC0_DVPG1")
	if err != nil {
		return err
	}
	backing1, err := pg1.EthernetCardBackingInfo(ctx)
	if err != nil {
		return err
	}
	vm, err := finder.VirtualMachine(ctx, "DC0_H0_VM1")
	if err != nil {
		return err
	}
	devices, err := vm.Device(ctx)
	if err != nil {
		return err
	}
	nics := devices.SelectByType((*types.VirtualEthernetCard)(nil))
	if len(nics) != 1 {
		return fmt.Errorf("DC0_H0_VM1 has %d NICs", len(nics))
	}
	nics[0].GetVirtualDevice().Backing = backing1
	if err := vm.EditDevice(ctx, nics[0]); err != nil {
		return err
	}
	vm2, err := finder.VirtualMachine(ctx, "DC0_C0_RP0_VM0")
	if err != nil {
		return err
	}
	nic2, err := object.VirtualDeviceList{}.CreateEthernetCard("vmxnet3", backing1)
	if err != nil {
		return err
	}
	if err := vm2.AddDevice(ctx, nic2); err != nil {
		return err
	}

	// vCenter's NIC labels ("Network adapter N") and distinct MACs (the simulator derives both from the unit
	// number and gives the VMs of one host the same MAC); set through ReconfigVM_Task like an admin would.
	vms, err := finder.VirtualMachineList(ctx, "*")
	if err != nil {
		return err
	}
	sort.Slice(vms, func(i, j int) bool { return vms[i].Name() < vms[j].Name() })
	mac := 0
	for _, vm := range vms {
		devices, err := vm.Device(ctx)
		if err != nil {
			return err
		}
		nics := devices.SelectByType((*types.VirtualEthernetCard)(nil))
		sort.Slice(nics, func(i, j int) bool { return nics[i].GetVirtualDevice().Key < nics[j].GetVirtualDevice().Key })
		for i, nic := range nics {
			mac++
			card := nic.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
			card.DeviceInfo = &types.Description{Label: fmt.Sprintf("Network adapter %d", i+1)}
			card.AddressType = string(types.VirtualEthernetCardMacTypeManual)
			card.MacAddress = fmt.Sprintf("00:50:56:AB:00:%02X", mac) // upper case on purpose: dvflow lower-cases
			if err := vm.EditDevice(ctx, nic); err != nil {
				return err
			}
		}
	}

	// The second switch, left as the simulator makes it.
	folders, err := dc.Folders(ctx)
	if err != nil {
		return err
	}
	task, err = folders.NetworkFolder.CreateDVS(ctx, types.DVSCreateSpec{ConfigSpec: &types.VMwareDVSConfigSpec{
		DVSConfigSpec: types.DVSConfigSpec{Name: "DC0_DVS_SIM"},
	}})
	if err != nil {
		return err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return err
	}
	dvsSim := object.NewDistributedVirtualSwitch(c.Client, info.Result.(types.ManagedObjectReference))
	for i, name := range []string{"DC0_SIMPG_A", "DC0_SIMPG_B"} {
		task, err = dvsSim.AddPortgroup(ctx, []types.DVPortgroupConfigSpec{{
			Name:     name,
			NumPorts: 4,
			DefaultPortConfig: &types.VMwareDVSPortSetting{
				Vlan: &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: int32(300 + i)},
			},
		}})
		if err != nil {
			return err
		}
		if err := task.Wait(ctx); err != nil {
			return err
		}
	}

	return wireDVS0(dvs0.Reference())
}

// wireDVS0 gives DVS0 the dvPorts, connectees and settings a real vCenter would report for the seeded inventory.
func wireDVS0(ref types.ManagedObjectReference) error {
	dvs, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualSwitch)
	if !ok {
		return fmt.Errorf("%s is not a simulator DistributedVirtualSwitch", ref)
	}

	pgs := map[string]*simulator.DistributedVirtualPortgroup{}
	var uplinkPg *simulator.DistributedVirtualPortgroup
	for _, pref := range dvs.Portgroup {
		pg := simulator.Map.Get(pref).(*simulator.DistributedVirtualPortgroup)
		pgs[pg.Key] = pg
		if strings.Contains(pg.Name, "-DVUplinks") {
			uplinkPg = pg
		}
	}
	if uplinkPg == nil {
		return fmt.Errorf("DVS0 has no uplink portgroup")
	}
	byName := map[string]*simulator.DistributedVirtualPortgroup{}
	for _, pg := range pgs {
		byName[pg.Name] = pg
	}

	var ports []types.DistributedVirtualPort
	portKeys := map[string][]string{}
	next := 0
	addPort := func(pg *simulator.DistributedVirtualPortgroup, connectee *types.DistributedVirtualSwitchPortConnectee) string {
		key := strconv.Itoa(next)
		next++
		ports = append(ports, types.DistributedVirtualPort{
			Key:          key,
			DvsUuid:      dvs.Uuid,
			PortgroupKey: pg.Key,
			Connectee:    connectee,
			Config:       types.DVPortConfigInfo{Setting: pg.Config.DefaultPortConfig},
		})
		portKeys[pg.Key] = append(portKeys[pg.Key], key)
		return key
	}

	// Uplink ports 0..: one per member host, connected to its vmnic1.
	hosts := append([]types.ManagedObjectReference(nil), dvs.Summary.HostMember...)
	sort.Slice(hosts, func(i, j int) bool { return hostName(hosts[i]) < hostName(hosts[j]) })
	uplinkKey := map[types.ManagedObjectReference]string{}
	for _, h := range hosts {
		h := h
		uplinkKey[h] = addPort(uplinkPg, &types.DistributedVirtualSwitchPortConnectee{ConnectedEntity: &h, NicKey: "vmnic1", Type: "pnic"})
	}

	// VM NIC ports from 10 on, in VM name order.
	next = 10
	var vms []*simulator.VirtualMachine
	for _, obj := range simulator.Map.All("VirtualMachine") {
		vms = append(vms, obj.(*simulator.VirtualMachine))
	}
	sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })
	for _, vm := range vms {
		vm := vm
		simulator.Map.WithLock(vm, func() {
			var guestNet []types.GuestNicInfo
			defer func() { vm.Guest.Net = guestNet }()
			for _, d := range vm.Config.Hardware.Device {
				nic, ok := d.(types.BaseVirtualEthernetCard)
				if !ok {
					continue
				}
				card := nic.GetVirtualEthernetCard()
				shared, ok := card.Backing.(*types.VirtualEthernetCardDistributedVirtualPortBackingInfo)
				if !ok || shared.Port.SwitchUuid != dvs.Uuid {
					continue
				}
				b := *shared // the model's VMs may share one backing value
				card.Backing = &b
				pg := pgs[b.Port.PortgroupKey]
				if pg == nil {
					continue
				}
				self := vm.Self
				b.Port.PortKey = addPort(pg, &types.DistributedVirtualSwitchPortConnectee{
					ConnectedEntity: &self,
					NicKey:          strconv.Itoa(int(card.Key)),
					Type:            "vmVnic",
					AddressHint:     card.MacAddress,
				})
				// What VMware Tools would report: the vNIC's guest addresses.
				guestNet = append(guestNet, types.GuestNicInfo{
					Network:        pg.Name,
					MacAddress:     strings.ToLower(card.MacAddress),
					Connected:      true,
					DeviceConfigId: card.Key,
					IpAddress:      []string{"10.0.0." + b.Port.PortKey, "fe80::250:56ff:feab:" + b.Port.PortKey},
				})
			}
		})
	}

	// A vmknic (vmk1) of the first cluster host on DC0_DVPG1.
	next = 40
	var vmkHost types.ManagedObjectReference
	vmkKey := ""
	for _, h := range hosts {
		if strings.HasPrefix(hostName(h), "DC0_C0_") {
			h := h
			vmkHost = h
			vmkKey = addPort(byName["DC0_DVPG1"], &types.DistributedVirtualSwitchPortConnectee{ConnectedEntity: &h, NicKey: "vmk1", Type: "hostVmkVnic"})
			break
		}
	}

	// The hosts' side: each management vmknic gets its own address (the model gives every host vmk0 127.0.0.1),
	// the vmk1 above and each host's uplink appear in config.network (vnic[].spec.distributedVirtualPort,
	// proxySwitch[].spec.backing.pnicSpec[]) as on a real host.
	for i, h := range hosts {
		h := h
		host := simulator.Map.Get(h).(*simulator.HostSystem)
		ip := fmt.Sprintf("198.51.100.%d", 11+i)
		simulator.Map.WithLock(host, func() {
			config := *host.Config
			network := *config.Network
			network.Vnic = nil
			for _, vnic := range host.Config.Network.Vnic {
				spec := vnic.Spec
				spec.Ip = &types.HostIpConfig{IpAddress: ip, SubnetMask: "255.255.255.0"}
				vnic.Spec = spec
				network.Vnic = append(network.Vnic, vnic)
			}
			if h == vmkHost {
				network.Vnic = append(network.Vnic, types.HostVirtualNic{
					Device:    "vmk1",
					Key:       "key-vim.host.VirtualNic-vmk1",
					Portgroup: "",
					Spec: types.HostVirtualNicSpec{
						Ip:  &types.HostIpConfig{IpAddress: "203.0.113.11", SubnetMask: "255.255.255.0"},
						Mac: "00:50:56:6b:00:01",
						DistributedVirtualPort: &types.DistributedVirtualSwitchPortConnection{
							SwitchUuid:   dvs.Uuid,
							PortgroupKey: byName["DC0_DVPG1"].Key,
							PortKey:      vmkKey,
						},
					},
				})
			}
			network.ProxySwitch = []types.HostProxySwitch{{
				DvsUuid: dvs.Uuid,
				DvsName: dvs.Name,
				Key:     "DvsPortset-0",
				Pnic:    []string{"key-vim.host.PhysicalNic-vmnic1"},
				Spec: types.HostProxySwitchSpec{Backing: &types.DistributedVirtualSwitchHostMemberPnicBacking{
					PnicSpec: []types.DistributedVirtualSwitchHostMemberPnicSpec{{PnicDevice: "vmnic1", UplinkPortKey: uplinkKey[h], UplinkPortgroupKey: uplinkPg.Key}},
				}},
			}}
			config.Network = &network
			host.Config = &config
		})
	}

	next = 50
	for _, name := range []string{"DC0_DVPG0", "DC0_DVPG1", "DC0_TRUNK"} {
		addPort(byName[name], nil)
		addPort(byName[name], nil)
	}

	simulator.Map.WithLock(dvs, func() {
		dvs.FetchDVPortsResponse.Returnval = ports
		config := dvs.Config.(*types.VMwareDVSConfigInfo)
		config.SwitchIpAddress = "192.0.2.5"
		config.UplinkPortgroup = []types.ManagedObjectReference{uplinkPg.Self}
		config.IpfixConfig = &types.VMwareIpfixConfig{
			CollectorIpAddress:  "192.0.2.10",
			CollectorPort:       4739,
			ObservationDomainId: 7,
			ActiveFlowTimeout:   60,
			IdleFlowTimeout:     15,
			SamplingRate:        64,
			InternalFlowsOnly:   false,
		}
	})
	for key, pg := range pgs {
		pg := pg
		keys := portKeys[key]
		simulator.Map.WithLock(pg, func() { pg.PortKeys = keys })
	}
	return nil
}

func hostName(ref types.ManagedObjectReference) string {
	if h, ok := simulator.Map.Get(ref).(*simulator.HostSystem); ok {
		return h.Name
	}
	return ref.Value
}

// ---- govc stand-in ----

func govc(args []string) error {
	fs := flag.NewFlagSet("govc", flag.ExitOnError)
	rawURL := fs.String("u", "", "vCenter URL with credentials, like GOVC_URL")
	_ = fs.Parse(args)
	if *rawURL == "" || fs.NArg() < 1 {
		return fmt.Errorf("usage: vcsim govc -u URL dvs.portgroup.info|object.collect ...")
	}
	u, err := url.Parse(*rawURL)
	if err != nil {
		return err
	}
	ctx := context.Background()
	c, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		return err
	}
	defer func() { _ = c.Logout(ctx) }()

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")

	switch fs.Arg(0) {
	case "dvs.portgroup.info":
		// govc/dvs/portgroup/info.go: flags, criteria and result type as govc has them.
		f := flag.NewFlagSet("dvs.portgroup.info", flag.ExitOnError)
		active := f.Bool("active", false, "")
		connected := f.Bool("connected", false, "")
		inside := f.Bool("inside", true, "")
		uplinkPort := f.Bool("uplinkPort", false, "")
		_ = f.Bool("json", true, "")
		_ = f.Parse(fs.Args()[1:])
		if f.NArg() != 1 {
			return fmt.Errorf("dvs.portgroup.info: one DVS name expected")
		}
		finder := find.NewFinder(c.Client, true)
		dc, err := finder.DefaultDatacenter(ctx)
		if err != nil {
			return err
		}
		finder.SetDatacenter(dc)
		net, err := finder.Network(ctx, f.Arg(0))
		if err != nil {
			return err
		}
		dvs, ok := net.(*object.DistributedVirtualSwitch)
		if !ok {
			return fmt.Errorf("%s (%s) is not a DVS", f.Arg(0), net.Reference().Type)
		}
		criteria := types.DistributedVirtualSwitchPortCriteria{
			Connected:  types.NewBool(*connected),
			Active:     types.NewBool(*active),
			UplinkPort: types.NewBool(*uplinkPort),
			Inside:     types.NewBool(*inside),
		}
		res, err := dvs.FetchDVPorts(ctx, &criteria)
		if err != nil {
			return err
		}
		return enc.Encode(&struct {
			Port []types.DistributedVirtualPort
		}{res})

	case "object.collect":
		// govc/object/collect.go with -type: a ContainerView on ROOT, WaitForUpdatesEx, one ObjectUpdate per object.
		f := flag.NewFlagSet("object.collect", flag.ExitOnError)
		kind := f.String("type", "", "")
		_ = f.Bool("json", true, "")
		_ = f.Parse(fs.Args()[1:])
		if *kind == "" || f.NArg() < 1 {
			return fmt.Errorf("object.collect: -type and a root expected")
		}
		aliases := map[string]string{"w": "DistributedVirtualSwitch", "g": "DistributedVirtualPortgroup", "m": "VirtualMachine", "h": "HostSystem"}
		if a, ok := aliases[*kind]; ok {
			*kind = a
		}
		root := c.ServiceContent.RootFolder
		if f.Arg(0) != "/" {
			return fmt.Errorf("object.collect: only / is supported as root")
		}
		v, err := view.NewManager(c.Client).CreateContainerView(ctx, root, []string{*kind}, true)
		if err != nil {
			return err
		}
		defer func() { _ = v.Destroy(ctx) }()
		filter := new(property.WaitFilter)
		filter.Add(v.Reference(), *kind, f.Args()[1:], &types.TraversalSpec{
			SelectionSpec: types.SelectionSpec{Name: "traverseEntities"},
			Type:          "ContainerView",
			Path:          "view",
			Skip:          types.NewBool(false),
		})
		var werr error
		err = property.WaitForUpdates(ctx, property.DefaultCollector(c.Client), filter, func(updates []types.ObjectUpdate) bool {
			for _, update := range updates {
				if e := enc.Encode(update); e != nil {
					werr = e
				}
			}
			return true
		})
		if err != nil {
			return err
		}
		return werr
	}
	return fmt.Errorf("unknown command %q", fs.Arg(0))
}
