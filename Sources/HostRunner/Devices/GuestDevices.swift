import GuestPhysical
import KVM

/// Everything a vCPU's port, MSR and MMIO accesses reach, whichever way they arrive: a raw
/// exit (KVM_EXIT_IO, a user-space MSR exit, KVM_EXIT_MMIO at a GPA with no RAM) or a
/// platform protocol that forwards the access (a GHCB IOIO / MSR / MMIO NAE event, a
/// TDVMCALL Instruction.IO / RDMSR / WRMSR / #VE.RequestMMIO). One dispatch for both, so a
/// guest that reports through its platform's protocol meets exactly the devices a raw guest
/// does: the report channel's ports, the platform's MSRs, KVM's MSR emulation for forwarded
/// MSRs, guest RAM for a forwarded MMIO access that names it (as the VMM's device model
/// reaches it), and "nothing there" for the rest (floating-bus reads, dropped writes, logged
/// and counted as unserved).
///
/// One per vCPU; pure apart from guest memory, the recorder and `hypervisorMSRs`, so tested
/// without /dev/kvm.
final class GuestDevices {
    let vcpu: Int
    let channel: ReportChannel
    let recorder: EventRecorder
    /// The vCPU's platform half, whose MSRs the devices answer (SNP: the GHCB MSR and
    /// SEV_STATUS).
    unowned let platform: any PlatformVCPU
    /// The vCPU's CPUID list (KVM_SET_CPUID2), which a forwarded CPUID is answered from.
    let cpuid: [CPUIDEntry]
    /// KVM's own MSRs of the vCPU, which a forwarded RDMSR/WRMSR reaches where the
    /// platform's hypervisor emulates the MSR.
    let hypervisorMSRs: any HypervisorMSRs
    /// The last exception the runner injected, named in the guest's EXCEPTION record of it.
    var injected: InjectedException?
    /// Guest RAM as the VMM's device model reaches it, for a forwarded MMIO access at a GPA
    /// that is RAM; nil: none (every GPA is "nothing there").
    let vmmMemory: VMMMemory?

    /// What an MMIO read of a GPA no device decodes returns: all ones, as a PC bus floats.
    static let floatingByte: UInt8 = 0xFF

    /// The PC devices a firmware volume expects (nil for our own images).
    let board: Board?
    /// A firmware volume's milestones (nil for our own images).
    let progress: FirmwareProgress?

    init(
        vcpu: Int, channel: ReportChannel, recorder: EventRecorder, platform: any PlatformVCPU, cpuid: [CPUIDEntry],
        hypervisorMSRs: any HypervisorMSRs, vmmMemory: VMMMemory? = nil, board: Board? = nil, progress: FirmwareProgress? = nil
    ) {
        self.vcpu = vcpu
        self.vmmMemory = vmmMemory
        self.board = board
        self.progress = progress
        self.cpuid = cpuid
        self.hypervisorMSRs = hypervisorMSRs
        self.channel = channel
        self.recorder = recorder
        self.platform = platform
    }

    /// A port access: `count` items of `size` bytes in `data` (answered in place for IN).
    /// nil to resume; a finish when the access ended the vCPU (the exit port, an EXCEPTION
    /// record, a flood of malformed records).
    func port(_ port: UInt16, isWrite: Bool, size: Int, count: Int, data: some PortData) -> VCPUFinish? {
        progress?.observe(port: port, isWrite: isWrite, vcpu: vcpu, recorder: recorder)
        if let board, board.claims(port: port) {
            switch board.port(port, isWrite: isWrite, size: size, count: count, data: data) {
            case .none: return nil
            case .systemReset: return .stopped(.platformStopped("the guest asked for a system reset (port 0x92 bit 0)"))
            }
        }
        return channel.handle(port: port, isWrite: isWrite, size: size, count: count, data: data, recorder: recorder, injected: injected)
    }

    /// A CPUID forwarded by the guest's protocol: KVM's answer from the vCPU's list.
    func cpuid(leaf: UInt32, subleaf: UInt32, xcr0: UInt64?, xss: UInt64?) -> CPUIDAnswer.Registers {
        CPUIDAnswer.answer(cpuid, leaf: leaf, subleaf: subleaf, xcr0: xcr0, xss: xss)
    }

    /// An RDMSR or WRMSR forwarded through the guest's protocol (GHCB MSR event, TDVMCALL
    /// RDMSR/WRMSR) reaches the hypervisor's MSR emulation as the platform's guests meet it
    /// (`PlatformVCPU.forwardedReadMSR`: SEV-ES/SNP: KVM's, without the hardware's own GHCB
    /// MSR and SEV_STATUS; TDX: the MSRs KVM emulates for a TD). nil: refused (#GP answer /
    /// INVALID_OPERAND), recorded as unserved.
    func forwardedReadMSR(_ index: UInt32) -> UInt64? {
        if let value = platform.forwardedReadMSR(index, kvm: hypervisorMSRs) { return value }
        recorder.noteUnserved(.msr(vcpu: vcpu, index: index, write: false, value: 0, answered: false))
        return nil
    }

    /// A forwarded WRMSR; false: refused, as `forwardedReadMSR`.
    func forwardedWriteMSR(_ index: UInt32, value: UInt64) -> Bool {
        if platform.forwardedWriteMSR(index, value: value, kvm: hypervisorMSRs) { return true }
        recorder.noteUnserved(.msr(vcpu: vcpu, index: index, write: true, value: value, answered: false))
        return false
    }

    /// RDMSR: the platform's answer, or nil (the MSR is refused: #GP), recorded as unserved.
    func readMSR(_ index: UInt32) -> UInt64? {
        if let value = platform.readMSR(index) { return value }
        recorder.noteUnserved(.msr(vcpu: vcpu, index: index, write: false, value: 0, answered: false))
        return nil
    }

    /// WRMSR: false when refused (#GP), recorded as unserved.
    func writeMSR(_ index: UInt32, value: UInt64) -> Bool {
        if platform.writeMSR(index, value: value) { return true }
        recorder.noteUnserved(.msr(vcpu: vcpu, index: index, write: true, value: value, answered: false))
        return false
    }

    /// What a forwarded MMIO access reached.
    enum MMIOTarget: Equatable {
        /// Guest RAM, as the VMM reads and writes it (`VMMMemory`), for at least one byte.
        case ram
        /// A device of the machine's board (a firmware volume's local APIC).
        case device
        /// No RAM and no device: floating-bus reads, dropped writes, counted as unserved.
        case nothing

        /// How the event log names it.
        var words: String {
            switch self {
            case .ram: "RAM"
            case .device: "device"
            case .nothing: "no device"
            }
        }
    }

    /// An MMIO read of `length` bytes at `gpa` (TDX's shared bit dropped, as KVM hands it to
    /// the VMM), raw or forwarded: a board device's register where one decodes it; else bytes
    /// that are RAM read as the VMM reads them (`VMMMemory`), the rest all ones (no device);
    /// recorded as unserved when none is RAM.
    func mmioRead(gpa: UInt64, length: Int) -> (bytes: [UInt8], target: MMIOTarget) {
        if let board, board.claims(mmio: gpa) {
            let value = board.mmioRead(gpa: gpa, length: length)
            return ((0..<length).map { $0 < 4 ? UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) : 0 }, .device)
        }
        var reached = false
        let bytes = (0..<length).map { offset -> UInt8 in
            guard let byte = vmmMemory?.load(gpa &+ UInt64(offset)) else { return Self.floatingByte }
            reached = true
            return byte
        }
        if !reached { recorder.noteUnserved(.ignoredMMIO(vcpu: vcpu, gpa: gpa, length: length, write: false)) }
        return (bytes, reached ? .ram : .nothing)
    }

    /// An MMIO write: to a board device where one decodes it; else bytes that are RAM land
    /// as the VMM writes them, the rest are dropped; recorded as unserved when none is RAM.
    func mmioWrite(gpa: UInt64, bytes: [UInt8]) -> MMIOTarget {
        if let board, board.claims(mmio: gpa) {
            let value = bytes.prefix(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            board.mmioWrite(gpa: gpa, length: bytes.count, value: value)
            return .device
        }
        var reached = false
        for (offset, byte) in bytes.enumerated() where vmmMemory?.store(byte, at: gpa &+ UInt64(offset)) == true { reached = true }
        if !reached { recorder.noteUnserved(.ignoredMMIO(vcpu: vcpu, gpa: gpa, length: bytes.count, write: true)) }
        return reached ? .ram : .nothing
    }
}
