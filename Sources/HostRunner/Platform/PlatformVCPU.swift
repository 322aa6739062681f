import GuestPhysical
import KVM
import Payload

/// One vCPU's half of its platform: the state the guest builds up with it (SNP: the GHCB MSR
/// and the registered GHCB; TDX: VE_INFO and forced retries) and what it serves — the
/// platform's MSRs, its trapped request instructions, and the fault for an access to a page
/// the guest has not validated or accepted. One instance per vCPU thread.
protocol PlatformVCPU: AnyObject {
    /// RDMSR of an MSR the platform serves, or nil (refused: #GP, as hardware).
    func readMSR(_ index: UInt32) -> UInt64?
    /// WRMSR of an MSR the platform serves; false: refused (#GP).
    func writeMSR(_ index: UInt32, value: UInt64) -> Bool
    /// Serves `instruction` (one of this platform's, trapped before it executed) with the
    /// vCPU's registers; the runner then skips it unless it faulted.
    func serve(_ instruction: RequestInstruction, _ request: inout TrappedRequest) -> TrappedOutcome
    /// What a private-view access to a page the guest has not validated (SNP) or accepted
    /// (TDX) meets. Pure apart from the platform's own state (TDX's VE_INFO).
    func unacceptedAccess(_ access: UnacceptedAccess) -> AccessFault
    /// What a raw port instruction meets: nil where the platform lets it reach the device
    /// (KVM), else the platform's exception at the instruction (SEV-SNP #VC, TDX #VE).
    func portIntercept(_ access: InterceptedPort) -> AccessFault?
    /// Whether raw port instructions are intercepted at all (asked at every KVM_EXIT_IO, so
    /// the KVM platform's port exits cost nothing more).
    var interceptsPortIO: Bool { get }
    /// What a raw access to a GPA with no RAM behind it meets (KVM_EXIT_MMIO outside guest
    /// memory): nil where the platform lets it reach the VMM's devices (KVM), else the
    /// platform's answer — its exception at the instruction for a shared access (SEV-SNP
    /// #VC NPF, TDX #VE EPT violation) or the guest's end for a private one. Pure apart from
    /// the platform's own state (TDX's VE_INFO).
    func mmioIntercept(_ access: InterceptedMMIO) -> AccessFault?
    /// Whether such accesses are intercepted at all.
    var interceptsMMIO: Bool { get }
    /// What a raw RDMSR/WRMSR the platform's `RawMSRRule` keeps from KVM meets: the
    /// platform's exception at the instruction (SEV-SNP #VC 0x7C; TDX #VE 31/32 or #GP);
    /// nil where the platform lets it run.
    func msrIntercept(_ access: InterceptedMSR) -> AccessFault?
    /// An RDMSR forwarded by the guest's protocol (GHCB MSR NAE event, TDVMCALL RDMSR): the
    /// hypervisor's emulation of it for this platform's guests, reached through `kvm` (the
    /// vCPU's own MSRs in KVM), or nil (refused).
    func forwardedReadMSR(_ index: UInt32, kvm: any HypervisorMSRs) -> UInt64?
    /// A forwarded WRMSR; false: refused.
    func forwardedWriteMSR(_ index: UInt32, value: UInt64, kvm: any HypervisorMSRs) -> Bool
    /// What a raw CPUID meets, found before it ran (`RunOptions.catchRawCPUID`): nil where the
    /// CPU (or the TDX module) answers it in the guest, else the platform's exception at it.
    func cpuidIntercept(_ access: InterceptedCPUID) -> AccessFault?
    /// What a raw HLT meets: nil where it halts the vCPU (KVM, SEV-SNP, where a halted vCPU
    /// with no interrupt source here never wakes), else the platform's exception at it (TDX).
    func hltIntercept(at: String) -> AccessFault?
    /// Why the guest may have shut down here but not on the platform's hardware (appended to
    /// the triple fault's location); empty when nothing is known.
    func shutdownHint(regs: Registers, sregs: SpecialRegisters, machine: Machine) -> String
}

extension PlatformVCPU {
    func readMSR(_ index: UInt32) -> UInt64? { nil }
    func writeMSR(_ index: UInt32, value: UInt64) -> Bool { false }
    func shutdownHint(regs: Registers, sregs: SpecialRegisters, machine: Machine) -> String { "" }
    func portIntercept(_ access: InterceptedPort) -> AccessFault? { nil }
    var interceptsPortIO: Bool { false }
    func mmioIntercept(_ access: InterceptedMMIO) -> AccessFault? { nil }
    var interceptsMMIO: Bool { false }
    func msrIntercept(_ access: InterceptedMSR) -> AccessFault? { nil }
    /// KVM's emulation as for any VM.
    func forwardedReadMSR(_ index: UInt32, kvm: any HypervisorMSRs) -> UInt64? { kvm.read(index) }
    func forwardedWriteMSR(_ index: UInt32, value: UInt64, kvm: any HypervisorMSRs) -> Bool { kvm.write(index, value: value) }
    func cpuidIntercept(_ access: InterceptedCPUID) -> AccessFault? { nil }
    func hltIntercept(at: String) -> AccessFault? { nil }
}

/// A raw CPUID as the runner found it before it executed: the leaf and subleaf it would read
/// (EAX, ECX) and its encoded length.
struct InterceptedCPUID: Equatable {
    let leaf: UInt32
    let subleaf: UInt32
    let length: Int
    /// Where the vCPU is (symbolized).
    let at: String

    func served(vcpu: Int, interface: ConversionPlatform, answer: String) -> RunEvent {
        .served(vcpu: vcpu, interface: interface, request: .cpuidIntercept(leaf: leaf, subleaf: subleaf, at: at), answer: answer)
    }
}

/// A raw port instruction as the runner found it at a KVM_EXIT_IO.
struct InterceptedPort: Equatable {
    let port: UInt16
    let instruction: PortInstruction
    /// Where the vCPU is (symbolized).
    let at: String

    var words: String {
        "\(instruction.isIn ? "IN" : "OUT")\(instruction.isString ? "S" : "") of \(instruction.size) byte\(instruction.size == 1 ? "" : "s") at port \(hex(port))"
    }

    func served(vcpu: Int, interface: ConversionPlatform, answer: String) -> RunEvent {
        .served(
            vcpu: vcpu, interface: interface,
            request: .portIntercept(port: port, size: instruction.size, write: !instruction.isIn, at: at), answer: answer)
    }
}

/// A raw access to a GPA no memslot backs, as the runner found it at a KVM_EXIT_MMIO.
struct InterceptedMMIO: Equatable {
    /// The address the guest put on the bus, view bit (C-bit, shared bit) included.
    let address: ViewAddress
    let size: Int
    let isWrite: Bool
    /// The linear address the instruction used, when the runner could recover it.
    let linear: UInt64?
    /// Where the vCPU is (symbolized), at the instruction.
    let at: String

    var words: String { "\(isWrite ? "write" : "read") of \(size) byte\(size == 1 ? "" : "s") at GPA \(hex(address.raw))" }

    func served(vcpu: Int, interface: ConversionPlatform, answer: String) -> RunEvent {
        .served(vcpu: vcpu, interface: interface, request: .mmioIntercept(gpa: address.raw, size: size, write: isWrite, at: at), answer: answer)
    }

    /// The guest's end for a private access to a GPA with no RAM behind it, on either
    /// platform: KVM finds no memslot for a private fault and exits with KVM_EXIT_MEMORY_FAULT
    /// (Linux arch/x86/kvm/mmu/mmu.c kvm_handle_noslot_fault); a VMM cannot make a GPA it has
    /// no RAM for private (QEMU accel/kvm/kvm-all.c kvm_convert_memory fails, and
    /// kvm_cpu_exec stops the VM).
    /// `gpa`: the GPA KVM faults on (SNP: without the C-bit, which is no address bit to the
    /// nested page tables).
    func privateEnd(_ view: String, gpa: UInt64) -> AccessFault {
        let page = gpa & ~UInt64(0xFFF)
        return .stop(
            .memoryFault(
                gpa: page, size: 0x1000, isPrivate: true,
                at:
                    "\(at): a \(view) \(words), which no RAM backs: KVM_EXIT_MEMORY_FAULT (mmu.c kvm_handle_noslot_fault), and a VMM cannot make a GPA without RAM private (QEMU kvm_convert_memory), so the guest stops"
            ))
    }
}

/// A trapped request as its platform serves it: the registers to answer in, what the
/// instruction reads of the special registers, and where the service records what it did.
struct TrappedRequest {
    var regs: Registers
    let sregs: SpecialRegisters
    /// The instruction's linear address.
    let pc: UInt64
    let machine: Machine
    /// The vCPU's ports, MSRs and MMIO, which a protocol's forwarded access reaches.
    let devices: GuestDevices
    /// Where the events of serving it go (`EventRecorder.pending`).
    var events: [RunEvent]
}

/// How a served instruction ended.
enum TrappedOutcome: Equatable {
    case completed
    /// It raises an exception instead of completing (taken at the instruction).
    case faulted(TrappedFault)
    case stopped(VCPUStop)
    /// A forwarded port write ended the run with an exit code (the report channel's exit port).
    case exited(UInt32)
}

/// An exception a served instruction raises instead of completing.
struct TrappedFault: Equatable {
    let vector: UInt8
    let errorCode: UInt32?
    let cause: String
}

/// A private-view access to a page not validated / accepted, as the runner saw it.
struct UnacceptedAccess: Equatable {
    /// The page's GPA (view bit dropped).
    let gpa: UInt64
    /// The address the guest used, view bit included.
    let address: ViewAddress
    /// The linear address the instruction used, when the runner could recover it.
    let linear: UInt64?
    let isWrite: Bool
    /// Where the vCPU is (symbolized).
    let at: String
    /// The page states around `gpa`, in words.
    let states: String
    /// The firmware metadata section `gpa` lies in, in words, when it lies in one
    /// (`FirmwareMetadataSections.name`): which launch promise the guest relied on.
    var section: String? = nil

    /// `gpa`, with the metadata section it lies in.
    var namedGPA: String { hex(gpa) + (section.map { " (\($0))" } ?? "") }
}

/// What the platform answers an unaccepted access with.
enum AccessFault: Equatable {
    /// An exception delivered at the instruction: vector, error code, CR2 when the platform
    /// sets it, the cause remembered for the guest's report (nil: none remembered), and the
    /// event that records the answer.
    case inject(vector: UInt8, errorCode: UInt32?, cr2: UInt64?, remembered: InjectedException?, served: RunEvent)
    case stop(VCPUStop)
}

/// A guest-physical address as the guest put it on the bus: with the view bit (SNP's C-bit,
/// TDX's shared bit) that chooses the private or shared view, so not yet a page's GPA.
struct ViewAddress: Equatable {
    let raw: UInt64
    init(_ raw: UInt64) { self.raw = raw }
}
