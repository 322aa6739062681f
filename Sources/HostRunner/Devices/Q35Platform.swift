/// The devices OVMF touches before PEI on QEMU's q35 machine, assembled: the PCI host and
/// LPC bridges behind CF8/CFC, the ACPI PM timer the LPC bridge maps, the PICs, CMOS,
/// port 0x92 and the local APIC. Not wired into a run yet (docs/devices.md).
public final class Q35Platform {
    public let hostBridge = Q35HostBridge()
    public let lpcBridge = ICH9LPCBridge()
    public let pciPorts: PCIConfigPorts
    public let pmTimer: ACPIPMTimer
    public let pic = LegacyPIC()
    public let cmos: CMOS
    public let port92 = Port92()
    public let localAPIC: LocalAPIC
    public let ports: IOPortBus

    public init(ramSize: UInt64, cpuCount: Int = 1, clock: MonotonicClock = .system) {
        pciPorts = PCIConfigPorts(functions: [
            PCIConfigPorts.devfn(device: 0, function: 0): hostBridge,
            PCIConfigPorts.devfn(device: 0x1F, function: 0): lpcBridge,
        ])
        pmTimer = ACPIPMTimer(lpc: lpcBridge, clock: clock)
        cmos = CMOS(memorySize: CMOSMemorySize(q35RAMSize: ramSize, cpuCount: cpuCount))
        localAPIC = LocalAPIC()
        ports = IOPortBus(devices: [pciPorts, pmTimer, pic, cmos, port92])
    }
}
