import GuestPhysical
import KVM

@testable import HostRunner

/// A vCPU's devices over a plain buffer standing in for guest RAM: no /dev/kvm.
final class GuestDevicesFixture {
    static let ramSize = 0x4000
    let base = UnsafeMutableRawPointer.allocate(byteCount: ramSize, alignment: 4096)
    var buffer: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: base, count: Self.ramSize) }
    let memory: GuestMemory
    let recorder: EventRecorder
    let platform: any PlatformVCPU
    let devices: GuestDevices
    /// KVM's MSRs as the test sets them up (none: KVM emulates nothing).
    let hypervisorMSRs: StubHypervisorMSRs

    /// `vmmMemory`: what a forwarded MMIO access reaches of the buffer (none by default).
    init(
        platform: any PlatformVCPU = KVMVCPU(index: 0), cpuid: [CPUIDEntry] = [], hypervisorMSRs: [UInt32: UInt64] = [:],
        vmmMemory: (GuestMemory) -> VMMMemory? = { _ in nil }
    ) {
        base.initializeMemory(as: UInt8.self, repeating: 0, count: Self.ramSize)
        // SAFETY (test): the buffer lives as long as the fixture.
        memory = GuestMemory(regions: [.init(name: "ram", range: GPARange(start: 0, end: UInt64(Self.ramSize)), base: base)])
        recorder = EventRecorder(vcpu: 0, budget: EventBudget(limit: 100), logLimit: 1 << 20)
        let channel = ReportChannel(
            vcpu: 0, memory: memory, malformedRecordLimit: 8, plannedChecksum: { _, _ in nil },
            symbolize: { "rip \(hex($0))" })
        self.platform = platform
        self.hypervisorMSRs = StubHypervisorMSRs(hypervisorMSRs)
        devices = GuestDevices(
            vcpu: 0, channel: channel, recorder: recorder, platform: platform, cpuid: cpuid, hypervisorMSRs: self.hypervisorMSRs,
            vmmMemory: vmmMemory(memory))
    }

    deinit { buffer.deallocate() }

    /// What the recorder kept (log lines, records, unserved accesses).
    var kept: [RunEvent] { recorder.events }
    var logLines: [String] { kept.compactMap { if case .log(_, let line) = $0 { line } else { nil } } }
    var unserved: Int { kept.filter { $0.kind == .unserved }.count }
}

/// KVM's MSR emulation as a table: the MSRs it knows, with their values; writes to a known
/// MSR store the value, anything else is refused.
final class StubHypervisorMSRs: HypervisorMSRs {
    var values: [UInt32: UInt64]
    init(_ values: [UInt32: UInt64]) { self.values = values }
    func read(_ index: UInt32) -> UInt64? { values[index] }
    func write(_ index: UInt32, value: UInt64) -> Bool {
        guard values[index] != nil else { return false }
        values[index] = value
        return true
    }
}
